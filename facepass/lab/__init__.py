"""The lab: benchmarks (`bench/`) and evaluations (`eval/`) of FacePass.

It imports the product like any user would and is never imported by it (the layer contract of
`make lint`, and tests/test_lab_direction.py); the `facepass bench …` and `facepass eval …`
commands load it only when they run.
"""
