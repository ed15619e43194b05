"""CSV import in the back office: upload, dry run with per-row problems, apply in batches.

The job's runner is called directly (`imports.work`), as the background thread and
`flask kiosk work-imports` call it; `stop_after` ends it between two batches as a
killed process would, so a test can resume it. Large files are the bench's business.
"""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from kiosk.audit.models import AuditEvent
from kiosk.backoffice import imports
from kiosk.backoffice.models import ImportJob, ImportStatus
from kiosk.catalog.models import Category, Product
from kiosk.extensions import db
from kiosk.inventory.models import InventoryMovement
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_category, make_user
from tests.shopping import sign_in, staff_member

HEADER = (
    "sku,slug,name,category,price,compare_at_price,vat_class,unit_content,unit_measure,"
    "delivery_time,weight_grams,stock,active,featured,description,images\n"
)
GOOD = HEADER + (
    "K-1,,Kaffeebecher „Bär“,kaffee,12.90,15.00,standard,,,1–3 Werktage,350,7,1,1,"
    '"**Steinzeug**\n- 300 ml",\n'
    'K-2,espresso,Espresso 250 g,kaffee,"8,99",,reduced,250,g,2–4 Werktage,260,0,1,0,,\n'
)
BROKEN = HEADER + (
    "K-1,,Becher neu,kaffee,13.90,,standard,,,,,5,1,0,,\n"
    "K-3,,Tasse,tee,abc,,super,250,,,,-2,vielleicht,0,,\n"
    "K-4,,Doppelte SKU,kaffee,1.00,,,,,,,,,,,\n"
    "K-4,,Noch einmal,kaffee,1.00,,,,,,,,,,,\n"
)
JOB_URL = re.compile(r"/staff/imports/(\d+)$")


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    with app.app_context():
        make_category("Kaffee", slug="kaffee")
    return staff_member(app)


def upload(
    client: FlaskClient, data: bytes, filename: str = "products.csv", kind: str = "products"
) -> TestResponse:
    """POST the file as a browser does. The body is built in memory: the test client
    would spool a body over 500 KB to a temporary file that it never closes."""
    token = csrf_token(client, "/staff/imports")
    fields = {
        "csrf_token": token,
        "kind": kind,
        "file": FileStorage(io.BytesIO(data), filename, content_type="text/csv"),
    }
    boundary, body = encode_multipart(fields)
    return client.post(
        "/staff/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def uploaded_job(client: FlaskClient, data: bytes, **kwargs: str) -> int:
    response = upload(client, data, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)
    match = JOB_URL.search(response.headers["Location"])
    assert match
    return int(match.group(1))


def run(app: Flask, job_id: int, **kwargs: int) -> ImportStatus | None:
    with app.app_context():
        return imports.work(job_id, **kwargs)


def apply(client: FlaskClient, job_id: int) -> TestResponse:
    token = csrf_token(client, f"/staff/imports/{job_id}")
    return client.post(f"/staff/imports/{job_id}/apply", data={"csrf_token": token})


def job_of(app: Flask, job_id: int) -> ImportJob:
    with app.app_context():
        found = db.session.get(ImportJob, job_id)
        assert found is not None
        db.session.expunge(found)
        return found


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def events(app: Flask, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def many_rows(count: int) -> bytes:
    rows = "".join(
        f"M-{n:05d},,Becher {n},kaffee,{n % 90 + 1}.50,,,,,,100,{n % 7},1,0,,\n"
        for n in range(count)
    )
    return (HEADER + rows).encode()


def test_the_dry_run_shows_each_problem_by_row_and_column_and_writes_nothing(
    app: Flask, staff: FlaskClient
) -> None:
    job_id = uploaded_job(staff, BROKEN.encode())
    assert run(app, job_id) == ImportStatus.CHECKED

    page = staff.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    for row, column, reason in (
        (3, "price", "&#39;abc&#39; is not an amount such as 12.50"),
        (3, "vat_class", "must be one of reduced, standard"),
        (3, "stock", "&#39;-2&#39; is not a whole number of 0 or more"),
        (5, "sku", "&#39;K-4&#39; is also used in row 4"),
    ):
        assert f"<tr><td>{row}</td><td>{column}</td><td>{reason}" in page
    assert "Refused</dt><dd>2</dd>" in page and "New</dt><dd>2</dd>" in page
    assert "Apply</button>" not in page
    assert count(app, Product) == 0
    assert apply(staff, job_id).status_code == 303
    assert run(app, job_id) is None  # nothing to run: the file has problems
    assert count(app, Product) == 0
    checked = events(app, "import.checked")
    assert [e.details["refused"] for e in checked] == [2] and checked[0].actor_id is not None


def test_apply_writes_the_products_with_their_stock_once_for_a_double_submit(
    app: Flask, staff: FlaskClient
) -> None:
    job_id = uploaded_job(staff, GOOD.encode())
    assert run(app, job_id) == ImportStatus.CHECKED
    page = staff.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    assert "The check found no problems" in page and "New</dt><dd>2</dd>" in page
    assert count(app, Product) == 0

    assert apply(staff, job_id).status_code == 303
    second = apply(staff, job_id)
    assert second.status_code == 303
    assert "not waiting to be applied" in staff.get(second.headers["Location"]).get_data(
        as_text=True
    )
    assert run(app, job_id) == ImportStatus.DONE
    assert run(app, job_id) is None
    with app.app_context():
        mug = db.session.scalar(select(Product).where(Product.sku == "K-1"))
        assert mug is not None and mug.name == "Kaffeebecher „Bär“" and mug.stock_on_hand == 7
        assert mug.category is not None and mug.category.slug == "kaffee"
    assert count(app, Product) == 2
    assert count(app, InventoryMovement) == 1  # K-1's 7; K-2 stays at 0
    applied = events(app, "import.applied")
    assert len(applied) == 1 and applied[0].details["created"] == 2
    assert "Done: 2 rows written." in staff.get(f"/staff/imports/{job_id}").get_data(as_text=True)

    again = uploaded_job(staff, GOOD.encode())  # the same file again changes nothing
    run(app, again)
    page = staff.get(f"/staff/imports/{again}").get_data(as_text=True)
    assert "Unchanged</dt><dd>2</dd>" in page and "New</dt><dd>0</dd>" in page


def test_a_windows_1252_file_from_german_excel_is_read_as_such(
    app: Flask, staff: FlaskClient
) -> None:
    data = GOOD.replace("„Bär“", "Bär").replace("–", "-").replace("\n", "\r\n").encode("cp1252")
    job_id = uploaded_job(staff, data, filename="excel.csv")
    run(app, job_id)
    assert "Windows-1252" in staff.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    apply(staff, job_id)
    assert run(app, job_id) == ImportStatus.DONE
    with app.app_context():
        assert (
            db.session.scalar(select(Product.name).where(Product.sku == "K-1"))
            == "Kaffeebecher Bär"
        )


def test_a_binary_file_is_refused_at_the_field_with_one_message(
    app: Flask, staff: FlaskClient
) -> None:
    response = upload(staff, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("This is not a CSV text file the shop can read") == 2  # summary and field
    assert 'id="file-error"' in page and 'aria-invalid="true"' in page
    assert '<option value="products" selected>' in page
    assert count(app, ImportJob) == 0


def test_a_missing_or_too_large_file_is_refused_at_the_field(
    app: Flask, staff: FlaskClient
) -> None:
    token = csrf_token(staff, "/staff/imports")
    missing = staff.post("/staff/imports", data={"csrf_token": token, "kind": "categories"})
    assert missing.status_code == 422
    assert "Please choose a CSV file." in missing.get_data(as_text=True)
    assert '<option value="categories" selected>' in missing.get_data(as_text=True)
    app.config["KIOSK_IMPORT_MAX_MB"] = 1
    large = upload(staff, (HEADER + "x" * (1024 * 1024)).encode())
    assert large.status_code == 422
    assert "The file is larger than 1 MB." in large.get_data(as_text=True)
    assert count(app, ImportJob) == 0


def test_a_killed_import_goes_on_from_its_last_committed_batch(
    app: Flask, staff: FlaskClient
) -> None:
    job_id = uploaded_job(staff, many_rows(1200))
    assert run(app, job_id, batch_rows=500) == ImportStatus.CHECKED
    apply(staff, job_id)
    # Stopped between the first and the second batch, as a killed process would be.
    assert run(app, job_id, batch_rows=500, stop_after=1) == ImportStatus.APPLYING
    job = job_of(app, job_id)
    assert (job.status, job.rows_done, job.rows_total) == (ImportStatus.APPLYING, 500, 1200)
    assert count(app, Product) == 500

    fragment = staff.get(f"/staff/imports/{job_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert '<progress id="import-progress" max="1200" value="500">' in body
    assert 'role="status">500 of 1,200 rows written.' in body and "<html" not in body

    assert run(app, job_id, batch_rows=500) == ImportStatus.DONE
    assert count(app, Product) == 1200
    assert len(events(app, "import.applied")) == 1
    done = staff.get(f"/staff/imports/{job_id}", headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert "<progress" not in done.get_data(as_text=True)


def test_the_command_resumes_a_job_that_lost_its_runner(app: Flask, staff: FlaskClient) -> None:
    job_id = uploaded_job(staff, GOOD.encode())
    result = app.test_cli_runner().invoke(args=["kiosk", "work-imports"])
    assert f"Import job {job_id}: checked." in result.output
    apply(staff, job_id)
    result = app.test_cli_runner().invoke(args=["kiosk", "work-imports"])
    assert f"Import job {job_id}: done." in result.output
    assert count(app, Product) == 2


def test_the_web_process_checks_the_file_in_a_thread(app: Flask, staff: FlaskClient) -> None:
    app.config["KIOSK_IMPORT_IN_BACKGROUND"] = True
    job_id = uploaded_job(staff, GOOD.encode())
    with app.app_context():
        imports.wait(job_id, timeout=30)
    assert job_of(app, job_id).status == ImportStatus.CHECKED


def test_categories_import_through_the_same_job(app: Flask, staff: FlaskClient) -> None:
    data = "slug,name,parent,description,sort_order\ntee,Tee,,,1\ngruen,Grüntee,tee,,2\n"
    job_id = uploaded_job(staff, data.encode(), kind="categories")
    assert run(app, job_id) == ImportStatus.CHECKED
    assert count(app, Category) == 1  # the dry run rolled back
    assert "New</dt><dd>2</dd>" in staff.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    apply(staff, job_id)
    assert run(app, job_id) == ImportStatus.DONE
    assert count(app, Category) == 3


def test_staff_find_the_page_and_customers_are_refused(app: Flask, staff: FlaskClient) -> None:
    assert 'href="/staff/imports"' in staff.get("/staff/orders").get_data(as_text=True)
    with app.app_context():
        make_user("kunde@example.org")
    customer = new_client(app)
    sign_in(customer, "kunde@example.org", PASSWORD)
    assert customer.get("/staff/imports").status_code == 403
    job_id = uploaded_job(staff, GOOD.encode())
    assert customer.get(f"/staff/imports/{job_id}").status_code == 403
    assert staff.get("/staff/imports/999999").status_code == 404
