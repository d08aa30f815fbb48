"""Measuring the engine: LFW verification, detection recall/precision, speed per stage."""
