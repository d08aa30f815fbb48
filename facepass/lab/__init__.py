"""The lab: benchmarks (`bench/`) and evaluations (`eval/`) of FacePass.

It imports the product like any user would and is never imported by it (tests/test_lab_direction.py
checks this); the `facepass bench …` and `facepass eval …` commands load it only when they run.
"""
