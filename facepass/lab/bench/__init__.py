"""Speed and memory benchmarks behind `facepass bench …` (JSON on stdout)."""
