"""The dashboard's charts: SVG drawn on the server by pygal, made fit for the strict CSP.

pygal writes a <style> element, a script tag per chart and inline colours. The shop's CSP
allows no inline style or script, and the colours must follow the light and dark themes,
so its JavaScript is switched off (`js=[]`) and what it writes is cleaned here: no <style>,
no style attributes, no comments, no namespaces or links. `static/css/kiosk.css` colours
the chart with the theme's custom properties. The numbers stay readable without the
picture: every chart sits beside a table of the same figures.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pygal
from lxml import etree
from markupsafe import Markup

# pygal 3.1.3 puts a finder for its map plugins on sys.meta_path that has only the
# find_module of Python 2, so every later import warns (ImportWarning). The shop draws no
# maps: take it off again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

WIDTH, HEIGHT = 720, 300


def _config(**extra: object) -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "width": WIDTH,
        "height": HEIGHT,
        "margin": 8,
        "print_values": False,
        "x_label_rotation": 30,
        "show_minor_x_labels": True,
        **extra,
    }


def clean(svg: str, name: str, chart_id: str) -> Markup:
    """The SVG without anything the CSP forbids, named for screen readers."""
    root = etree.fromstring(svg.encode())
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments and processing instructions
            element.getparent().remove(element)
            continue
        local = etree.QName(element).localname
        if local in ("style", "script"):
            element.getparent().remove(element)
            continue
        element.tag = local
        for attribute in list(element.attrib):
            if attribute == "style" or attribute.startswith("{"):
                del element.attrib[attribute]  # style=, xlink:href and the like
    etree.cleanup_namespaces(root)
    for title in root.iterchildren("title"):
        title.text = name  # pygal names itself here
    root.attrib.pop("id", None)
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("aria-label", name)
    root.set("focusable", "false")
    text = etree.tostring(root, encoding="unicode", method="xml")
    text = text.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
    return Markup(text)  # noqa: S704  (built from our own figures, escaped by lxml)


def _labels(labels: Sequence[str]) -> list[str]:
    """Axis labels: many days show every n-th one, so they stay readable."""
    step = max(1, len(labels) // 15)
    return [label if n % step == 0 else "" for n, label in enumerate(labels)]


def bars(name: str, chart_id: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """A bar per label (days, hours, or the steps of the funnel)."""
    chart = pygal.Bar(**_config())
    chart.x_labels = _labels(labels)
    chart.add(name, list(values))
    return clean(chart.render(is_unicode=True), name, chart_id)


def line(name: str, chart_id: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """A line through the values of consecutive days or hours."""
    chart = pygal.Line(**_config(show_dots=len(values) <= 31, fill=False))
    chart.x_labels = _labels(labels)
    chart.add(name, list(values))
    return clean(chart.render(is_unicode=True), name, chart_id)
