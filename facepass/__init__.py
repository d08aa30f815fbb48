"""FacePass: a guest takes a selfie and finds every photo of the session that shows them."""

__version__ = "0.1.0"
