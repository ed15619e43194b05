"""The legal texts as the owner edits them: Markdown in German and English with a preview;
each save is a new version, and orders keep the version they were placed under."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.legal_forms import LegalTextForm
from kiosk.backoffice.views import bp
from kiosk.hypermedia import render_page
from kiosk.legal import services as legal
from kiosk.markdown import render_markdown

TITLES = {
    "imprint": _l("Imprint (§ 5 DDG)"),
    "terms": _l("Terms and conditions"),
    "withdrawal": _l("Withdrawal policy (§ 312g BGB)"),
    "privacy": _l("Privacy policy (Art. 13 GDPR)"),
    "accessibility": _l("Accessibility statement (BFSG)"),
}


def _known(kind: str) -> None:
    if kind not in TITLES:
        abort(404)


@bp.get("/legal")
@require(Permission.MANAGE_LEGAL_TEXTS)
def legal_texts() -> str:
    """Every legal text with its newest version, each linked to its editor."""
    newest = {kind: next(iter(legal.history(kind)), None) for kind in TITLES}
    return render_template("staff/legal_texts.html", titles=TITLES, newest=newest)


def _editor(
    kind: str, form: LegalTextForm, status: int = 200, preview: bool = False
) -> ResponseReturnValue:
    """The editor; a preview request with htmx gets only the preview."""
    texts = form.texts()
    return render_page(
        "staff/legal_text.html",
        "staff/_legal_preview.html",
        status,
        kind=kind,
        title=TITLES[kind],
        form=form,
        preview={language: render_markdown(text) for language, text in texts.items()}
        if preview
        else None,
        history=legal.history(kind),
    )


@bp.get("/legal/<kind>")
@require(Permission.MANAGE_LEGAL_TEXTS)
def legal_text(kind: str) -> ResponseReturnValue:
    """The text as the shop shows it now, to change."""
    _known(kind)
    data = {f"markdown_{lang}": legal.current(kind, lang).markdown for lang in ("de", "en")}
    return _editor(kind, LegalTextForm(formdata=None, data=data))


@bp.post("/legal/<kind>")
@require(Permission.MANAGE_LEGAL_TEXTS)
def save_legal_text(kind: str) -> ResponseReturnValue:
    """Preview, fill in the generated privacy draft, or save as a new version."""
    _known(kind)
    if kind == "privacy" and "draft" in request.form:
        data = {f"markdown_{lang}": legal.privacy_draft(lang) for lang in ("de", "en")}
        flash(_("The generated draft is in the editor. Complete it, then save."), "info")
        return _editor(kind, LegalTextForm(formdata=None, data=data))
    form = LegalTextForm()
    if not form.validate():
        return _editor(kind, form, 422)
    if "preview" in request.form:
        return _editor(kind, form, preview=True)
    number = legal.save(current_user.id, kind, form.texts())
    if number is None:
        flash(_("Nothing changed."), "info")
    else:
        flash(_("Saved as version %(number)s.", number=number), "success")
    return redirect(url_for("staff.legal_text", kind=kind), code=303)
