"""Face embedders: aligned crops in, unit-length float32 vectors out."""

from facepass.engine.embedders.arcface import ArcFaceOnnx
from facepass.engine.embedders.base import Embedder, normalise
from facepass.engine.embedders.dlib_resnet import DlibResNet
from facepass.engine.embedders.intel_reid import IntelFaceReid

__all__ = ["ArcFaceOnnx", "DlibResNet", "Embedder", "IntelFaceReid", "normalise"]
