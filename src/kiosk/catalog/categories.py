"""Category use cases for staff: create, rename, move, reorder, (de)activate and delete.

Each change is one transaction with its audit event, and drops the cached shop tree once
it is committed (`forget_category_tree`), so this worker's shop front shows it at once;
other workers see it when their cached tree expires (`services.TREE_SECONDS`).

What a deactivated category means: it and every category below it leave the shop's
navigation and their pages answer 404; their products stay on sale (under "All products",
in search and at their own address), because a product's visibility is its own switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.audit import services as audit
from kiosk.catalog.models import Category
from kiosk.catalog.product_csv import SLUG_PATTERN, make_slug
from kiosk.catalog.repository import CategoryRepository, forget_category_tree
from kiosk.uow import read_session, unit_of_work

SLUG_LENGTH = 120


class CategoryProblem(Exception):
    """A change staff asked for that the tree does not allow; `field` is where to say so."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class TreeRow:
    """One line of the staff tree: the category, how deep it sits and what it holds."""

    id: int
    parent_id: int | None
    name: str
    slug: str
    depth: int
    is_active: bool
    shown_in_shop: bool
    product_count: int
    position: int
    siblings: int

    @property
    def is_first(self) -> bool:
        return self.position == 0

    @property
    def is_last(self) -> bool:
        return self.position == self.siblings - 1


def _children(categories: Sequence[Category]) -> dict[int | None, list[Category]]:
    children: dict[int | None, list[Category]] = {}
    for category in sorted(categories, key=lambda c: (c.sort_order, c.name.casefold(), c.id)):
        children.setdefault(category.parent_id, []).append(category)
    return children


def _rows(session: Session) -> list[TreeRow]:
    repo = CategoryRepository(session)
    children = _children(repo.all())
    counts = repo.product_counts()
    rows: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int, shown: bool) -> None:
        siblings = children.get(parent_id, [])
        for position, category in enumerate(siblings):
            visible = shown and category.is_active
            rows.append(
                TreeRow(
                    category.id,
                    category.parent_id,
                    category.name,
                    category.slug,
                    depth,
                    category.is_active,
                    visible,
                    counts.get(category.id, 0),
                    position,
                    len(siblings),
                )
            )
            walk(category.id, depth + 1, visible)

    walk(None, 0, True)
    return rows


def staff_tree() -> list[TreeRow]:
    """Every category in tree order (parents before children, siblings in their order)."""
    return _rows(read_session())


def get(category_id: int) -> TreeRow | None:
    return next((row for row in staff_tree() if row.id == category_id), None)


def descendant_ids(rows: Sequence[TreeRow], category_id: int) -> set[int]:
    """The category and every one below it."""
    found, frontier = {category_id}, {category_id}
    while frontier:
        frontier = {row.id for row in rows if row.parent_id in frontier}
        found |= frontier
    return found


def _snapshot(category: Category) -> dict[str, Any]:
    return {
        "name": category.name,
        "slug": category.slug,
        "parent": category.parent_id,
        "position": category.sort_order,
        "active": category.is_active,
    }


def _record(
    session: Session, event: str, staff_id: int, category_id: int, before: Any, after: Any
) -> None:
    """The audit event of a change: who, which category, and what it was and became."""
    audit.record(
        session,
        event,
        actor=audit.Account(staff_id),
        category=category_id,
        before=before,
        after=after,
    )


def _check_slug(repo: CategoryRepository, slug: str, category_id: int | None) -> str:
    slug = slug or ""
    if not SLUG_PATTERN.match(slug) or len(slug) > SLUG_LENGTH:
        raise CategoryProblem("slug", "slug_format")
    owner = repo.get_by_slug(slug)
    if owner is not None and owner.id != category_id:
        raise CategoryProblem("slug", "slug_taken")
    return slug


def _parent(repo: CategoryRepository, parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    parent = repo.get(parent_id)
    if parent is None:
        raise CategoryProblem("parent", "no_parent")
    return parent


def _flush_unique(session: Session) -> None:
    """A slug taken by a request that committed in between is the slug's problem."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise CategoryProblem("slug", "slug_taken") from exc


def _last_position(session: Session, parent_id: int | None, exclude: int | None = None) -> int:
    siblings = _children(CategoryRepository(session).all()).get(parent_id, [])
    return max((c.sort_order for c in siblings if c.id != exclude), default=-1) + 1


def create(staff_id: int, name: str, slug: str, parent_id: int | None) -> int:
    """A new category at the end of its parent's list; the slug comes from the name when
    left empty. Returns its id."""
    with unit_of_work() as session:
        repo = CategoryRepository(session)
        slug = _check_slug(repo, slug or make_slug(name)[:SLUG_LENGTH].strip("-"), None)
        parent = _parent(repo, parent_id)
        category = Category(
            name=name,
            slug=slug,
            parent_id=parent.id if parent else None,
            description="",
            sort_order=_last_position(session, parent_id),
            is_active=True,
        )
        repo.add(category)
        _flush_unique(session)
        _record(session, "category.created", staff_id, category.id, None, _snapshot(category))
        category_id = category.id
    forget_category_tree()
    return category_id


def _existing(repo: CategoryRepository, category_id: int) -> Category:
    category = repo.get(category_id)
    if category is None:
        raise LookupError(f"no category {category_id}")
    return category


def rename(staff_id: int, category_id: int, name: str, slug: str) -> bool:
    """Change name and slug (the slug is the category's address). False if nothing changed."""
    with unit_of_work() as session:
        repo = CategoryRepository(session)
        category = _existing(repo, category_id)
        slug = _check_slug(repo, slug, category.id)
        if (category.name, category.slug) == (name, slug):
            return False
        before = _snapshot(category)
        category.name, category.slug = name, slug
        _flush_unique(session)
        _record(session, "category.updated", staff_id, category.id, before, _snapshot(category))
    forget_category_tree()
    return True


def move(staff_id: int, category_id: int, parent_id: int | None) -> bool:
    """Put a category (with everything below it) under another parent, or at the top,
    at the end of its new siblings. Refuses a place inside itself. False if already there."""
    with unit_of_work() as session:
        repo = CategoryRepository(session)
        category = _existing(repo, category_id)
        if category.parent_id == parent_id:
            return False
        parent = _parent(repo, parent_id)
        if parent is not None and parent.id in descendant_ids(_rows(session), category.id):
            raise CategoryProblem("parent", "cycle")
        before = _snapshot(category)
        category.sort_order = _last_position(session, parent_id, exclude=category.id)
        category.parent_id = parent_id
        _record(session, "category.moved", staff_id, category.id, before, _snapshot(category))
    forget_category_tree()
    return True


def reorder(staff_id: int, category_id: int, up: bool, position: int) -> bool:
    """Swap a category with its neighbour above (or below) it among its siblings.

    `position` is where the staff member saw it; if it is no longer there (a second click
    of the same button, or someone else moved it), nothing changes and False comes back,
    so a double submit moves it once.
    """
    with unit_of_work() as session:
        repo = CategoryRepository(session)
        category = _existing(repo, category_id)
        siblings = _children(repo.all()).get(category.parent_id, [])
        index = siblings.index(category)
        other = index - 1 if up else index + 1
        if index != position or not 0 <= other < len(siblings):
            return False
        before = [c.id for c in siblings]
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for number, sibling in enumerate(siblings):
            sibling.sort_order = number
        _record(
            session,
            "category.reordered",
            staff_id,
            category.id,
            {"order": before},
            {"order": [c.id for c in siblings]},
        )
    forget_category_tree()
    return True


def set_active(staff_id: int, category_id: int, active: bool) -> bool:
    """Show or hide a category (and what is below it) in the shop. False if already so."""
    with unit_of_work() as session:
        category = _existing(CategoryRepository(session), category_id)
        if category.is_active == active:
            return False
        category.is_active = active
        _record(
            session,
            "category.activated" if active else "category.deactivated",
            staff_id,
            category.id,
            {"active": not active},
            {"active": active},
        )
    forget_category_tree()
    return True


@dataclass(frozen=True)
class Deleted:
    name: str
    products_moved: int
    subcategories_moved: int


def delete(staff_id: int, category_id: int, move_to: int | None = None) -> Deleted:
    """Delete a category. One that holds products or subcategories is deleted only together
    with moving them to `move_to` (subcategories go below it), in the same transaction."""
    with unit_of_work() as session:
        repo = CategoryRepository(session)
        category = _existing(repo, category_id)
        rows = _rows(session)
        products = next(row.product_count for row in rows if row.id == category.id)
        children = [c for c in repo.all() if c.parent_id == category.id]
        target = None
        if products or children:
            if move_to is None:
                raise CategoryProblem("move_to", "not_empty")
            if move_to in descendant_ids(rows, category.id):
                raise CategoryProblem("move_to", "cycle")
            target = repo.get(move_to)
            if target is None:
                raise CategoryProblem("move_to", "no_parent")
        before = _snapshot(category)
        moved = 0
        if target is not None:
            moved = repo.move_products(category.id, target.id)
            position = _last_position(session, target.id)
            for number, child in enumerate(children):
                child.parent_id = target.id
                child.sort_order = position + number
            session.flush()
        repo.delete(category)
        _record(
            session,
            "category.deleted",
            staff_id,
            category_id,
            before,
            {
                "products_moved_to": target.id if target else None,
                "products_moved": moved,
                "subcategories_moved": [c.id for c in children],
            },
        )
        name = before["name"]
    forget_category_tree()
    return Deleted(name, moved, len(children))
