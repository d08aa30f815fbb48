from tests.pixora.fixtures import make_session, pixora_admin_engine
from tests.webhooks.receiver import receiver

__all__ = ["make_session", "pixora_admin_engine", "receiver"]
