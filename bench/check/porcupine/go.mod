module seer.local/bench/porcupine-check

go 1.19

require github.com/anishathalye/porcupine v1.3.0
