"""Read-only access to Pixora's database: PhotoSession, validation and cache.

Its request dependency, `get_pixora_db` (`PixoraDb`), lives with the others in
facepass.composition.context.
"""

from facepass.pixora.database import PixoraDatabase
from facepass.pixora.models import PhotoSession
from facepass.pixora.schemas import SessionInfo

__all__ = ["PhotoSession", "PixoraDatabase", "SessionInfo"]
