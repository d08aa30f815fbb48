"""Accuracy evaluations on real labelled photos behind `facepass eval …`."""
