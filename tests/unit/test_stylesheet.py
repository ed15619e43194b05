"""The stylesheet's colours: a light theme for every browser, light and dark at WCAG AA.

`light-dark()` exists only in browsers since 2024; an older one drops every
declaration that uses it, and a colour variable without a plain value before
it would be empty there (black on white at best, invisible buttons at
worst). So each colour has a plain light value, and `light-dark()` appears
only inside `@supports (color: light-dark(…))`.
"""

from __future__ import annotations

import re

import pytest

from kiosk.config import PROJECT_ROOT

CSS = re.sub(r"/\*.*?\*/", "", (PROJECT_ROOT / "static/css/kiosk.css").read_text(), flags=re.S)
SUPPORTS = re.compile(r"@supports\s*\(\s*color\s*:\s*light-dark\([^)]*\)\s*\)\s*\{")
LIGHT_DARK = re.compile(r"(--[\w-]+)\s*:\s*light-dark\(\s*([^,()]+?)\s*,\s*([^()]+?)\s*\)")


def split_supports(css: str) -> tuple[str, str]:
    """(what every browser reads, what only browsers with light-dark() read)."""
    outside, inside, position = [], [], 0
    for start in SUPPORTS.finditer(css):
        depth, end = 1, start.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        outside.append(css[position : start.start()])
        inside.append(css[start.end() : end - 1])
        position = end
    outside.append(css[position:])
    return "".join(outside), "".join(inside)


def root_values(css: str) -> dict[str, str]:
    """The custom properties of the `:root` rules of `css`."""
    values: dict[str, str] = {}
    for body in re.findall(r"(?<![\w-]):root\s*\{([^}]*)\}", css):
        values.update(re.findall(r"(--[\w-]+)\s*:\s*([^;]+?)\s*;", body))
    return values


EVERY_BROWSER, _ = split_supports(CSS)
FALLBACK = root_values(EVERY_BROWSER)
THEMES = {name: (light, dark) for name, light, dark in LIGHT_DARK.findall(CSS)}


def test_light_dark_is_used_only_where_browsers_support_it() -> None:
    assert THEMES, "no light-dark() colours found"
    assert "light-dark(" not in EVERY_BROWSER


def test_every_colour_has_a_plain_light_value_first() -> None:
    missing = {name: light for name, (light, _) in THEMES.items() if FALLBACK.get(name) != light}
    assert missing == {}, "light-dark() colours whose light value is not also set plainly"


def test_every_variable_used_is_set_for_every_browser() -> None:
    used = set(re.findall(r"var\(\s*(--[\w-]+)", CSS))
    assert used - set(FALLBACK) == set()


def test_old_browsers_get_a_light_color_scheme() -> None:
    plain_root = re.search(r"(?<![\w-]):root\s*\{([^}]*)\}", EVERY_BROWSER)
    assert plain_root and re.search(r"color-scheme\s*:\s*light\s*;", plain_root.group(1))
    assert "data-theme" not in EVERY_BROWSER  # theme switching needs light-dark()


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


TEXT_PAIRS = [
    (fg, bg)
    for fg in ("--text", "--muted", "--accent", "--danger", "--success", "--warning")
    for bg in ("--bg", "--surface")
] + [("--accent-text", "--accent")]


@pytest.mark.parametrize("theme", [0, 1], ids=["light", "dark"])
def test_colours_meet_wcag_aa(theme: int) -> None:
    colours = {name: values[theme] for name, values in THEMES.items()}
    weak = {
        f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2)
        for fg, bg in TEXT_PAIRS
        if contrast(colours[fg], colours[bg]) < 4.5
    }
    # The focus ring is not text: 3:1 against what it surrounds (WCAG 1.4.11).
    weak.update(
        {
            f"--focus on {bg}": round(contrast(colours["--focus"], colours[bg]), 2)
            for bg in ("--bg", "--surface")
            if contrast(colours["--focus"], colours[bg]) < 3
        }
    )
    assert weak == {}
