"""The map of personal data: every column of every table, declared personal or not.

This declaration is the privacy centre's single source. Export (Art. 15, 20 GDPR), erasure
(Art. 17), the retention jobs and the generated privacy policy (Art. 13) read it; none of
them lists fields of its own. A test fails when a model column is in neither list, so a new
feature cannot add personal data silently: declare the column here, with its category,
purpose, legal basis, retention and what erasure does to it.

How the map finds a person's rows: each table about persons names its *owners* — the column
that holds the person's account id (`ByUser`), an email address (`ByEmail`, for guests), or
its parent row (`ByParent`: an order line belongs to whoever owns its order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


class Category(StrEnum):
    IDENTITY = "identity"  # who someone is: a name
    CONTACT = "contact"  # how to reach them: email, phone
    ADDRESS = "address"  # where they live or receive parcels
    PAYMENT_REFERENCE = "payment_reference"  # references at a payment provider; never card data
    ORDER_HISTORY = "order_history"  # what they bought, returned or wrote about an order
    TECHNICAL = "technical"  # IP addresses, browsers, cookie tokens
    SECURITY = "security"  # password hashes, second-factor secrets, sign-in tokens
    CONSENT = "consent"  # proof of what they agreed to, and when
    STAFF_NOTE = "staff_note"  # what staff wrote down about a customer


class Basis(StrEnum):
    """The legal bases of Art. 6(1) GDPR this shop relies on."""

    CONSENT = "Art. 6(1)(a) GDPR"
    CONTRACT = "Art. 6(1)(b) GDPR"
    LEGAL_OBLIGATION = "Art. 6(1)(c) GDPR"
    LEGITIMATE_INTEREST = "Art. 6(1)(f) GDPR"


class Erasure(StrEnum):
    """What an erasure request (Art. 17 GDPR) does to a value."""

    DELETE = "delete"  # the person's row goes
    ANONYMISE = "anonymise"  # the value is replaced by `anonymised`; the row stays
    RETAIN = "retain"  # kept until the retention period ends (Art. 17(3)(b) GDPR), then removed


@dataclass(frozen=True)
class Retention:
    """How long a value is kept. `days` is the default; `setting` names the configuration
    key that overrides it (in days, or in years where the statute counts years). Where
    `years` is set, it is the period (`days` only approximates it), and it runs from the
    end of the calendar year of the table's `age_column` (§147(4) AO, §257(5) HGB); its
    setting counts years."""

    key: str
    description: LazyString
    statute: str = ""
    days: int | None = None
    setting: str | None = None
    years: int | None = None


ACCOUNT = Retention("account", _l("While the account exists"))
# §147(1) and (3) AO, §257(1) and (4) HGB as amended by the Bürokratieentlastungsgesetz IV
# (2025): accounting vouchers such as invoices 8 years, from the end of the calendar year.
INVOICE = Retention(
    "invoice",
    _l("8 years after the end of the year of issue"),
    statute="§147 AO, §257 HGB",
    days=8 * 365,
    setting="KIOSK_RETENTION_INVOICE_YEARS",
    years=8,
)
# §257(1) Nr. 2 and 3, (4) HGB, §147(1) Nr. 2 and 3 AO: business letters 6 years.
BUSINESS_LETTER = Retention(
    "business_letter",
    _l("6 years after the end of the year they were sent"),
    statute="§147 AO, §257 HGB",
    days=6 * 365,
    setting="KIOSK_RETENTION_LETTER_YEARS",
    years=6,
)
AUDIT_IP = Retention(
    "audit_ip",
    _l("Shortened to the network after 30 days"),
    days=30,
    setting="KIOSK_RETENTION_IP_DAYS",
)
GUEST_CART = Retention("guest_cart", _l("30 days after the last change"), days=30)
UNVERIFIED_ACCOUNT = Retention(
    "unverified_account", _l("14 days when the address is never confirmed"), days=14
)
MAIL_DELIVERED = Retention("mail_delivered", _l("30 days after sending"), days=30)
STOCK_ALERT = Retention("stock_alert", _l("Until the mail is sent, at most one year"), days=365)
SESSION = Retention("session", _l("Until sign-out, at most 30 days without use"), days=30)
INVITATION = Retention("invitation", _l("30 days after it was used or expired"), days=30)
SHORT_LIVED = Retention("short_lived", _l("Minutes, until the time window ends"))
EXPORT_LINK = Retention("export_link", _l("Until the emailed link expires, one day"), days=1)
# Proof of consent (Art. 7(1) GDPR) for as long as a claim about it can be brought: the
# regular limitation period of three years (§195 BGB).
CONSENT_PROOF = Retention(
    "consent_proof", _l("3 years after the choice"), statute="§195 BGB", days=3 * 365
)
# The mail that tells a person their data is erased (Art. 12(3) GDPR) must still reach them:
# it is the one row that names them after erasure, and goes as soon as it was sent.
ERASURE_NOTICE = Retention("erasure_notice", _l("Until it was sent"), days=0)
ERASURE_REQUEST = Retention(
    "erasure_request", _l("Until the erasure ran; unconfirmed requests 30 days"), days=30
)

RETENTIONS = (
    ACCOUNT,
    INVOICE,
    BUSINESS_LETTER,
    AUDIT_IP,
    GUEST_CART,
    UNVERIFIED_ACCOUNT,
    MAIL_DELIVERED,
    STOCK_ALERT,
    SESSION,
    INVITATION,
    SHORT_LIVED,
    EXPORT_LINK,
    CONSENT_PROOF,
    ERASURE_NOTICE,
    ERASURE_REQUEST,
)

# Mails about an order or its documents are business letters (§257(1) Nr. 2 and 3 HGB,
# §147(1) Nr. 2 and 3 AO): kept BUSINESS_LETTER long, even after erasure. Every other mail
# (sign-in links, notices to staff, stock alerts) loses its row MAIL_DELIVERED after sending.
BUSINESS_LETTER_TEMPLATES = frozenset(
    {
        "order_received",
        "order_shipped",
        "order_cancelled",
        "payment_received",
        "payment_reminder",
        "invoice_reminder",
        "document_issued",
        "withdrawal_received",
    }
)
ERASURE_NOTICE_TEMPLATE = "privacy_erasure_done"


@dataclass(frozen=True)
class ByUser:
    """The row belongs to the person whose account id is in `column`."""

    column: str = "user_id"


@dataclass(frozen=True)
class ByEmail:
    """The row belongs to whoever has the address in `column` (guests have no account)."""

    column: str = "email"


@dataclass(frozen=True)
class ByParent:
    """The row belongs to whoever owns the `parent` row that `column` points at."""

    column: str
    parent: str


@dataclass(frozen=True)
class Mentions:
    """The row concerns whoever's email address appears in one of `columns` (a notice to
    staff about someone's order names them, though it is addressed to staff)."""

    columns: tuple[str, ...]


Owner = ByUser | ByEmail | ByParent | Mentions


@dataclass(frozen=True)
class RetainIf:
    """Only the rows whose `column` holds one of `values` are kept on erasure, each for the
    retention `values` names; the others get `otherwise`, and lose their row `after` (from
    the table's `age_column`) even without an erasure."""

    column: str
    values: dict[str, Retention]
    otherwise: Erasure
    after: Retention


@dataclass(frozen=True)
class Personal:
    """One column that holds personal data."""

    column: str
    category: Category
    purpose: LazyString
    basis: Basis
    retention: Retention
    erasure: Erasure
    # What ANONYMISE writes: None for NULL, {} for an empty JSON object, or text in which
    # {id} is the row's id.
    anonymised: str | dict[str, str] | None = ""


@dataclass(frozen=True)
class Table:
    """One table: whose rows they are, what erasure does to a person's rows, which columns
    are personal and which are not, and the column retention periods count from."""

    name: str
    personal: tuple[Personal, ...] = ()
    not_personal: frozenset[str] = field(default_factory=frozenset)
    owners: tuple[Owner, ...] = ()
    rows_on_erasure: Erasure | None = None  # None: the table holds no one's rows
    age_column: str | None = None
    retain_if: RetainIf | None = None

    def column(self, name: str) -> Personal:
        return next(p for p in self.personal if p.column == name)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Purposes, shared where several columns serve the same one.
_ACCOUNT = _l("Your customer account: signing in, addresses, order history")
_DELIVERY = _l("Delivering your order and writing its invoice")
_INVOICE = _l("Invoices and credit notes, which tax law requires us to keep")
_SIGN_IN = _l("Keeping your account secure")
_MAIL = _l("Sending you the mails about your account and orders")

MAP: tuple[Table, ...] = (
    Table(
        "user_account",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _ACCOUNT,
                Basis.CONTRACT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised="erased-{id}@invalid",
            ),
            Personal(
                "name", Category.IDENTITY, _ACCOUNT, Basis.CONTRACT, ACCOUNT, Erasure.ANONYMISE
            ),
            Personal(
                "phone", Category.CONTACT, _ACCOUNT, Basis.CONTRACT, ACCOUNT, Erasure.ANONYMISE
            ),
            Personal(
                "password_hash",
                Category.SECURITY,
                _SIGN_IN,
                Basis.CONTRACT,
                ACCOUNT,
                Erasure.ANONYMISE,
            ),
            Personal(
                "totp_secret",
                Category.SECURITY,
                _SIGN_IN,
                Basis.CONTRACT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "totp_enabled_at",
                Category.SECURITY,
                _SIGN_IN,
                Basis.CONTRACT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "totp_last_step",
                Category.SECURITY,
                _SIGN_IN,
                Basis.CONTRACT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "marketing_opt_in_at",
                Category.CONSENT,
                _l("Proof of your newsletter consent"),
                Basis.CONSENT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "marketing_consent_at",
                Category.CONSENT,
                _l("Proof of your newsletter consent"),
                Basis.CONSENT,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "last_sign_in_at",
                Category.TECHNICAL,
                _SIGN_IN,
                Basis.LEGITIMATE_INTEREST,
                ACCOUNT,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
        ),
        # The row stays as a nameless tombstone: orders kept for tax law and the audit log
        # (which is append-only) still point at it.
        not_personal=_names(
            "id locale role is_active email_verified_at session_version created_at"
        ),
        owners=(ByUser("id"),),
        rows_on_erasure=Erasure.ANONYMISE,
        age_column="created_at",
    ),
    Table(
        "erasure_request",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _l("Erasing your data when you ask us to"),
                Basis.LEGAL_OBLIGATION,
                ERASURE_REQUEST,
                Erasure.ANONYMISE,
                anonymised="erased-request-{id}@invalid",
            ),
            Personal(
                "token_hash",
                Category.SECURITY,
                _l("Erasing your data when you ask us to"),
                Basis.LEGAL_OBLIGATION,
                ERASURE_REQUEST,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
        ),
        # What was asked and when it was done is kept: proof that the request was answered
        # (Art. 5(2), 12(3) GDPR).
        not_personal=_names(
            "id user_id locale state token_expires_at requested_at confirmed_at postponed_at"
            " done_at"
        ),
        owners=(ByUser(), ByEmail()),
        rows_on_erasure=Erasure.ANONYMISE,
        age_column="requested_at",
    ),
    Table(
        "address",
        personal=tuple(
            Personal(name, category, _ACCOUNT, Basis.CONTRACT, ACCOUNT, Erasure.DELETE)
            for name, category in (
                ("name", Category.IDENTITY),
                ("company", Category.IDENTITY),
                ("street", Category.ADDRESS),
                ("extra", Category.ADDRESS),
                ("postal_code", Category.ADDRESS),
                ("city", Category.ADDRESS),
                ("country", Category.ADDRESS),
                ("phone", Category.CONTACT),
            )
        ),
        not_personal=_names("id user_id is_default_shipping is_default_billing"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
    ),
    Table(
        "user_session",
        personal=(
            Personal(
                "token_hash", Category.SECURITY, _SIGN_IN, Basis.CONTRACT, SESSION, Erasure.DELETE
            ),
            Personal(
                "browser",
                Category.TECHNICAL,
                _l("Showing you where you are signed in"),
                Basis.LEGITIMATE_INTEREST,
                SESSION,
                Erasure.DELETE,
            ),
            Personal(
                "system",
                Category.TECHNICAL,
                _l("Showing you where you are signed in"),
                Basis.LEGITIMATE_INTEREST,
                SESSION,
                Erasure.DELETE,
            ),
            Personal(
                "last_seen_at",
                Category.TECHNICAL,
                _l("Showing you where you are signed in"),
                Basis.LEGITIMATE_INTEREST,
                SESSION,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id user_id remember created_at"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
        age_column="last_seen_at",
    ),
    Table(
        "recovery_code",
        personal=(
            Personal(
                "code_hash", Category.SECURITY, _SIGN_IN, Basis.CONTRACT, ACCOUNT, Erasure.DELETE
            ),
        ),
        not_personal=_names("id user_id used_at"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
    ),
    Table(
        "customer_note",
        personal=(
            Personal(
                "body",
                Category.STAFF_NOTE,
                _l("Notes our staff keep to help you"),
                Basis.LEGITIMATE_INTEREST,
                ACCOUNT,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id user_id author_id created_at"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
    ),
    Table(
        "cart",
        personal=(
            Personal(
                "token",
                Category.TECHNICAL,
                _l("Keeping your cart between visits"),
                Basis.CONTRACT,
                GUEST_CART,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id user_id created_at updated_at"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
        age_column="updated_at",
    ),
    Table(
        # What a person put in the cart is theirs, though no single column names them.
        "cart_line",
        not_personal=_names("id cart_id product_id quantity price_seen_cents added_at"),
        owners=(ByParent("cart_id", "cart"),),
        rows_on_erasure=Erasure.DELETE,
    ),
    Table(
        "customer_order",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _DELIVERY,
                Basis.CONTRACT,
                BUSINESS_LETTER,
                Erasure.ANONYMISE,
                anonymised="erased-order-{id}@invalid",
            ),
            Personal(
                "shipping_address",
                Category.ADDRESS,
                _DELIVERY,
                Basis.CONTRACT,
                BUSINESS_LETTER,
                Erasure.ANONYMISE,
                anonymised={},
            ),
            Personal(
                "billing_address",
                Category.ADDRESS,
                _INVOICE,
                Basis.LEGAL_OBLIGATION,
                INVOICE,
                Erasure.ANONYMISE,
                anonymised=None,
            ),
            Personal(
                "payment_reference",
                Category.PAYMENT_REFERENCE,
                _INVOICE,
                Basis.LEGAL_OBLIGATION,
                INVOICE,
                Erasure.RETAIN,
            ),
        ),
        # What was bought, for how much, and when: kept for tax law (§147 AO) without a name.
        not_personal=_names(
            "id number idempotency_key access_key_hash user_id locale status currency"
            " items_cents discount_cents shipping_cents fee_cents total_cents vat_breakdown"
            " coupon_id coupon_code shipping_method shipping_method_name payment_method"
            " needs_review legal_versions terms_checkbox_ticked placed_at previous_order_at"
            " updated_at"
        ),
        owners=(ByUser(), ByEmail()),
        rows_on_erasure=Erasure.RETAIN,
        age_column="placed_at",
    ),
    Table(
        "order_line",
        not_personal=_names(
            "id order_id product_id sku name unit_price_cents vat_rate_bp quantity total_cents"
            " delivery_time"
        ),
        owners=(ByParent("order_id", "customer_order"),),
        rows_on_erasure=Erasure.RETAIN,
    ),
    Table(
        "order_event",
        personal=(
            # A withdrawal's reason and statement are business letters (§257 HGB).
            Personal(
                "reason",
                Category.ORDER_HISTORY,
                _l("Handling withdrawals and returns"),
                Basis.LEGAL_OBLIGATION,
                BUSINESS_LETTER,
                Erasure.RETAIN,
            ),
            Personal(
                "data",
                Category.ORDER_HISTORY,
                _l("Handling withdrawals and returns"),
                Basis.LEGAL_OBLIGATION,
                BUSINESS_LETTER,
                Erasure.RETAIN,
                anonymised={},
            ),
        ),
        not_personal=_names("id order_id kind actor_id actor_kind created_at"),
        owners=(ByParent("order_id", "customer_order"),),
        rows_on_erasure=Erasure.RETAIN,
        age_column="created_at",
    ),
    Table(
        "invoice",
        personal=(
            # The document as issued, with the buyer's name and address (§14(4) UStG).
            Personal(
                "pdf", Category.ADDRESS, _INVOICE, Basis.LEGAL_OBLIGATION, INVOICE, Erasure.RETAIN
            ),
        ),
        not_personal=_names(
            "id order_id kind year sequence number refers_to_id seller_version_id amount_cents"
            " net_cents"
            " currency issued_at delivery_date reason vat_breakdown sha256"
        ),
        owners=(ByParent("order_id", "customer_order"),),
        rows_on_erasure=Erasure.RETAIN,
        age_column="issued_at",
    ),
    Table(
        "payment",
        personal=tuple(
            Personal(
                name,
                Category.PAYMENT_REFERENCE,
                _INVOICE,
                Basis.LEGAL_OBLIGATION,
                INVOICE,
                Erasure.RETAIN,
                anonymised=None,  # external ids are unique per provider: NULL, not ""
            )
            for name in ("external_id", "intent_id", "redirect_url")
        ),
        not_personal=_names(
            "id order_id provider amount_cents currency status refunded_cents created_at"
            " updated_at paid_at"
        ),
        owners=(ByParent("order_id", "customer_order"),),
        rows_on_erasure=Erasure.RETAIN,
        age_column="created_at",
    ),
    Table(
        "payment_event",
        not_personal=_names("id provider event_id type order_id received_at"),
    ),
    Table(
        "coupon_redemption",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _l("Limiting a coupon to one use per customer"),
                Basis.CONTRACT,
                INVOICE,
                Erasure.ANONYMISE,
            ),
        ),
        not_personal=_names("id coupon_id order_id user_id created_at"),
        owners=(ByUser(), ByEmail()),
        rows_on_erasure=Erasure.ANONYMISE,
        age_column="created_at",
    ),
    Table(
        "stock_alert",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _l("Telling you when a product is back"),
                Basis.CONSENT,
                STOCK_ALERT,
                Erasure.DELETE,
            ),
            Personal(
                "confirmed_at",
                Category.CONSENT,
                _l("Proof that you asked for the mail"),
                Basis.CONSENT,
                STOCK_ALERT,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id product_id user_id locale created_at notified_at"),
        owners=(ByUser(), ByEmail()),
        rows_on_erasure=Erasure.DELETE,
        age_column="created_at",
    ),
    Table(
        "outbox_message",
        # Mails about orders are business letters (§257 HGB) and are kept; the others lose
        # their body 30 days after sending (the retention job tells them apart by template).
        personal=tuple(
            Personal(name, Category.CONTACT, _MAIL, Basis.CONTRACT, BUSINESS_LETTER, Erasure.RETAIN)
            for name in ("to_address", "subject", "text_body", "html_body")
        ),
        not_personal=_names(
            "id message_id template status attempts next_attempt_at claimed_until last_error"
            " created_at sent_at"
        ),
        owners=(ByEmail("to_address"), Mentions(("subject", "text_body", "html_body"))),
        rows_on_erasure=Erasure.RETAIN,
        age_column="sent_at",
        retain_if=RetainIf(
            "template",
            {
                **dict.fromkeys(BUSINESS_LETTER_TEMPLATES, BUSINESS_LETTER),
                ERASURE_NOTICE_TEMPLATE: ERASURE_NOTICE,
            },
            otherwise=Erasure.DELETE,
            after=MAIL_DELIVERED,
        ),
    ),
    Table(
        "outbox_attachment",
        personal=(
            Personal(
                "data",
                Category.ORDER_HISTORY,
                _MAIL,
                Basis.CONTRACT,
                MAIL_DELIVERED,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id message_id filename content_type"),
        owners=(ByParent("message_id", "outbox_message"),),
        rows_on_erasure=Erasure.DELETE,
    ),
    Table(
        "staff_invitation",
        personal=(
            Personal(
                "email",
                Category.CONTACT,
                _l("Inviting a new member of staff"),
                Basis.CONTRACT,
                INVITATION,
                Erasure.DELETE,
            ),
            Personal(
                "token_hash",
                Category.SECURITY,
                _l("Inviting a new member of staff"),
                Basis.CONTRACT,
                INVITATION,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names(
            "id role locale invited_by_id created_at expires_at used_at revoked_at"
        ),
        owners=(ByEmail(),),
        rows_on_erasure=Erasure.DELETE,
        age_column="expires_at",
    ),
    Table(
        "audit_event",
        personal=(
            Personal(
                "ip_address",
                Category.TECHNICAL,
                _l("Detecting and proving misuse"),
                Basis.LEGITIMATE_INTEREST,
                AUDIT_IP,
                Erasure.RETAIN,
            ),
        ),
        # Details hold ids, codes and amounts only, never a personal value; the log is
        # append-only, and its ids point at the anonymised account after erasure.
        not_personal=_names("id occurred_at event actor_id subject_id details prev_hash hash"),
        owners=(ByUser("subject_id"),),
        rows_on_erasure=Erasure.RETAIN,
        age_column="occurred_at",
    ),
    Table(
        "rate_limit_window",
        personal=(
            # A hash of the client address or account the limit counts; gone with its window.
            Personal(
                "key_hash",
                Category.TECHNICAL,
                _l("Stopping password guessing"),
                Basis.LEGITIMATE_INTEREST,
                SHORT_LIVED,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("hits count expires_at"),
        age_column="expires_at",
    ),
    Table(
        # A guest's emailed export link: the hash of the signed token, which carries the
        # address; the row names no one and goes once the link has expired.
        "privacy_export",
        personal=(
            Personal(
                "token_hash",
                Category.SECURITY,
                _l("Sending your data only to the owner of the address"),
                Basis.LEGAL_OBLIGATION,
                EXPORT_LINK,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id created_at expires_at used_at"),
        age_column="expires_at",
    ),
    Table(
        # Each cookie choice, under the random id of the visitor's consent cookie.
        "consent_record",
        personal=(
            Personal(
                "consent_id",
                Category.TECHNICAL,
                _l("Proof of your cookie choices"),
                Basis.LEGAL_OBLIGATION,
                CONSENT_PROOF,
                Erasure.DELETE,
            ),
            Personal(
                "granted",
                Category.CONSENT,
                _l("Proof of your cookie choices"),
                Basis.LEGAL_OBLIGATION,
                CONSENT_PROOF,
                Erasure.DELETE,
            ),
            Personal(
                "choice",
                Category.CONSENT,
                _l("Proof of your cookie choices"),
                Basis.LEGAL_OBLIGATION,
                CONSENT_PROOF,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id banner_version created_at user_id"),
        owners=(ByUser(),),
        rows_on_erasure=Erasure.DELETE,
        age_column="created_at",
    ),
    Table("consent_category", not_personal=_names("name in_use updated_at updated_by_id")),
    Table(
        "stock_reservation",
        personal=(
            Personal(
                "holder",
                Category.TECHNICAL,
                _l("Holding stock while you check out"),
                Basis.CONTRACT,
                SHORT_LIVED,
                Erasure.DELETE,
            ),
        ),
        not_personal=_names("id product_id quantity status expires_at created_at"),
        age_column="expires_at",
    ),
    Table(
        # The seller's own data, printed on every invoice (§14(4) UStG); a sole trader's
        # name and address are personal data too, kept as long as the invoices.
        "seller_profile_version",
        personal=tuple(
            Personal(name, category, _INVOICE, Basis.LEGAL_OBLIGATION, INVOICE, Erasure.RETAIN)
            for name, category in (
                ("name", Category.IDENTITY),
                ("address", Category.ADDRESS),
                ("email", Category.CONTACT),
                ("account_holder", Category.IDENTITY),
                ("iban", Category.PAYMENT_REFERENCE),
                ("tax_number", Category.IDENTITY),
                ("vat_id", Category.IDENTITY),
            )
        ),
        not_personal=_names("id bic bank_name invoice_footer created_at created_by_id"),
    ),
    Table("shop_setting", not_personal=_names("key value updated_at updated_by_id")),
    Table(
        "legal_text_version",
        not_personal=_names(
            "id kind language number markdown source_digest created_at created_by_id"
        ),
    ),
    Table(
        "category",
        not_personal=_names("id parent_id slug name description sort_order is_active"),
    ),
    Table(
        "product",
        not_personal=_names(
            "id slug sku name description category_id price_cents compare_at_cents currency"
            " vat_class unit_content unit_measure delivery_time weight_grams is_active"
            " is_featured stock_on_hand stock_reserved reorder_level archived_at search_text"
            " created_at updated_at"
        ),
    ),
    Table(
        "product_image",
        not_personal=_names("id product_id position filename alt width height picture_key"),
    ),
    Table(
        "coupon",
        not_personal=_names(
            "id code kind value currency min_order_cents valid_from valid_until max_uses"
            " max_uses_per_customer times_used is_active created_at"
        ),
    ),
    Table(
        "shipping_method",
        not_personal=_names(
            "id code position active names delivery countries kind price_cents tiers"
            " free_above_cents carrier updated_at"
        ),
    ),
    Table("audit_chain_head", not_personal=_names("id last_hash length")),
    # The analytics (kiosk.analytics) hold no personal data, by construction: no account,
    # order, IP address or user agent is stored, and no cookie is set. `visitor` is a hash
    # of address, user agent and a random salt that is deleted when its day ends; without
    # the salt the hash cannot be recomputed from anyone's address, nor linked to the same
    # visitor's hash of another day, so it identifies no one (recital 26 GDPR). Search
    # words are kept without anything that says who searched.
    Table(
        "analytics_event",
        not_personal=_names(
            "id occurred_at kind visitor product_id category_id quantity step query results"
        ),
    ),
    Table("analytics_salt", not_personal=_names("day salt")),
    Table(
        "analytics_rollup",
        not_personal=_names(
            "id bucket start kind product_id category_id step query zero events visitors"
            " quantity rolled_up_at"
        ),
    ),
    Table(
        # Sums per day and month: what was sold, never who bought it.
        "sales_rollup",
        not_personal=_names(
            "id bucket day currency product_id name orders order_total_cents gross_cents"
            " net_cents credited_orders withdrawals units revenue_cents rolled_up_at"
        ),
    ),
    Table("carrier", not_personal=_names("id code position active name tracking_url updated_at")),
    Table("document_counter", not_personal=_names("id kind year last")),
    Table(
        # Staff upload product lists; the file holds products, not people.
        "import_job",
        not_personal=_names(
            "id kind status filename encoding content rows_total rows_done created_count"
            " changed_count unchanged_count refused_count problem_count problems"
            " created_by_id applied_by_id created_at updated_at finished_at lease_until"
        ),
    ),
    Table(
        "inventory_movement",
        not_personal=_names(
            "id product_id kind quantity reason actor_id reservation_id created_at"
        ),
    ),
)

TABLES = {table.name: table for table in MAP}


def personal_columns() -> Iterator[tuple[Table, Personal]]:
    for table in MAP:
        for column in table.personal:
            yield table, column


def about_persons() -> tuple[Table, ...]:
    """The tables that hold someone's rows, parents before children (for export and erasure)."""
    return tuple(table for table in MAP if table.owners)
