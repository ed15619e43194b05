"""Flask extensions, created unbound here and bound to the app in `create_app`.

Keeping them apart from the app avoids import cycles: models, services and
views import from here, never from `kiosk.app`.
"""

from flask_babel import Babel
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from kiosk import rate_limit_storage  # noqa: F401  (registers the kiosk-db:// storage)
from kiosk.limits import only_form_submissions
from kiosk.orm import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
limiter.request_filter(only_form_submissions)
login_manager = LoginManager()
compress = Compress()
