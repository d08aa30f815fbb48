from tests.pixora.fixtures import make_session, pixora_admin_engine, pixora_proxy

__all__ = ["make_session", "pixora_admin_engine", "pixora_proxy"]
