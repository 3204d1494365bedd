"""Sans-I/O codecs for the protocols SinoTrack trackers speak (H02, JT/T 808).

Nothing in this package imports Home Assistant or asyncio.
"""
