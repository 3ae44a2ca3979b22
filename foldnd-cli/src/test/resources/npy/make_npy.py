"""Writes the .npy fixtures used by CliTest with NumPy itself, so the reader is tested against
real NumPy output (little- and big-endian, float32 and float64, 1-d, and a version 2.0 header).
Run from this directory: python3 make_npy.py"""
import numpy as np

np.save("seed_f4.npy", np.arange(18, dtype="<f4").reshape(1, 2, 3, 3))
np.save("seed_f8_be_unbatched.npy", np.arange(18, dtype=">f8").reshape(2, 3, 3))
np.save("signal_f4.npy", np.arange(5, dtype="<f4").reshape(1, 5))
with open("seed_f4_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(18, dtype="<f4").reshape(1, 2, 3, 3), version=(2, 0))
np.save("ints.npy", np.arange(4, dtype="<i4"))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
