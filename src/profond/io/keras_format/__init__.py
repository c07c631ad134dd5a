"""Keras 3's files, read and written: ``.keras`` models and ``.weights.h5`` weights.

``profond.load_model("m.keras")``, ``model.save("m.keras")``, ``model.save_weights(
"m.weights.h5")`` and ``model.load_weights(...)`` come here by the file's suffix. The HDF5
inside needs h5py (``pip install 'profond[h5]'``).
"""

from profond.io.keras_format.config_translation import KerasFileError
from profond.io.keras_format.h5_weights import load_weights_h5, save_weights_h5
from profond.io.keras_format.keras_archive import load_keras, save_keras

__all__ = ["KerasFileError", "load_keras", "save_keras", "load_weights_h5", "save_weights_h5"]
