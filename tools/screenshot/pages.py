"""What the pictures show and how the script tells: page scripts run in Home Assistant's frontend.

The frontend is made of web components: ``DEEP_QUERY`` walks every open shadow root and hands a
check the elements by tag. Each check answers whether the page is ready (and whether Home
Assistant shows its login form instead).
"""

from __future__ import annotations

from typing import Final

WIDTH: Final = 1400
HEIGHT: Final = 900
DEVICE_PAGE_HEIGHT: Final = 1500  # tall enough for every entity card of a tracker
PAGE_TIMEOUT: Final = 90  # seconds for a page to show what it should

# Collects the elements of the page, through every open shadow root (the frontend is made of
# web components), and answers a question about them.
DEEP_QUERY = """
(() => {
  const all = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      all.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const tags = (name) => all.filter((el) => el.localName === name);
  return JSON.stringify((%s)(tags, all));
})()
"""
# On the map: the entity markers (a badge per device_tracker) and whether Home Assistant shows
# a login form instead. The Map dashboard's overview panel shows people by default and device
# trackers only on its "Devices" tab: select that tab (again on every poll, until it sticks).
MAP_CHECK = """(tags) => {
  const devices = tags('hui-map-overview').flatMap((o) =>
    o.shadowRoot ? [...o.shadowRoot.querySelectorAll('[data-tab="devices"]')] : []);
  devices.forEach((tab) => tab.click());
  return {
    login: tags('ha-authorize').length + tags('ha-auth-flow').length,
    tab: tags('hui-map-card').map((c) => c._overviewTab || ''),
    overview: tags('hui-map-overview').length,
    markers: tags('ha-entity-marker').map((m) => m.getAttribute('entity-id') || m.entityId || ''),
  };
}"""
# The trackers moved while the page settled: fit the map to the markers again.
MAP_FIT = """(tags) => tags('ha-map').map((m) => (m.fitMap ? (m.fitMap(), 1) : 0))"""
# On the device page: the headers of the entity cards, whether something is still loading.
DEVICE_CHECK = """(tags) => ({
  login: tags('ha-authorize').length + tags('ha-auth-flow').length,
  title: tags('hass-subpage').map((p) => p.header || '').join(' '),
  cards: tags('ha-device-entities-card').map((c) => c.getAttribute('header') || c.header || ''),
  loading: tags('ha-spinner').length + tags('ha-circular-progress').length,
})"""
DEVICE_CARDS = {"Controls", "Sensors", "Events", "Diagnostic"}
# The forms a newcomer meets first (--forms): the text of every element without children, so
# a string the frontend cannot format shows: "Translation error: UNCLOSED_TAG" for an SMS
# written "804<password>".
FORM_TEXT = """(tags, all) => ({
  login: tags('ha-authorize').length + tags('ha-auth-flow').length,
  texts: all.filter((el) => !el.children.length).map((el) => (el.textContent || '').trim())
    .filter((text) => text && text.length < 2000),
})"""
# Click the last button or menu item whose text is %s (a JSON string).
CLICK_TEXT = """(tags, all) => {
  const hits = all.filter((el) => /item|button/.test(el.localName)
    && (el.textContent || '').trim() === %s).slice(-1);
  hits.forEach((el) => el.click());
  return {clicked: hits.length};
}"""
# Open the overflow menu of the integration page's entry (hub) row.
ENTRY_MENU = """(tags) => {
  const rows = tags('ha-config-entry-row');
  const menus = rows.flatMap((r) => (r.shadowRoot
    ? [...r.shadowRoot.querySelectorAll('ha-md-button-menu, ha-button-menu, ha-dropdown')] : []));
  const triggers = menus.flatMap((m) => [...m.querySelectorAll('ha-icon-button, [slot=trigger]')]);
  triggers.forEach((t) => t.click());
  return {clicked: triggers.length};
}"""
TRANSLATION_ERROR = "Translation error"
