"""Read-only access to Pixora's database: PhotoSession, get_pixora_db, validation and cache."""

from facepass.pixora.database import PixoraDatabase
from facepass.pixora.dependencies import PixoraDb, get_pixora_db
from facepass.pixora.models import PhotoSession
from facepass.pixora.schemas import SessionInfo

__all__ = ["PhotoSession", "PixoraDatabase", "PixoraDb", "SessionInfo", "get_pixora_db"]
