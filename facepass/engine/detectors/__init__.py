"""Face detectors: an image in, boxes, scores and 5 landmarks out."""

from facepass.engine.detectors.base import Detections, Detector, nms
from facepass.engine.detectors.centerface import CenterFace
from facepass.engine.detectors.scrfd import Scrfd

__all__ = ["CenterFace", "Detections", "Detector", "Scrfd", "nms"]
