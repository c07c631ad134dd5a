"""Layers with Keras 3's names, arguments, defaults and weight layouts (channels-last)."""

from profond.layers.base import Input, InputLayer, Layer
from profond.layers.core import Activation, Dense
from profond.layers.preprocessing import Normalization
from profond.layers.registry import deserialize, get, register, serialize

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "get", "register",
           "serialize", "deserialize", "Normalization"]
