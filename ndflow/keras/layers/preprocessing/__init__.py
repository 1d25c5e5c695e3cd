"""Preprocessing layers: image (rescaling, resizing, crops, random augmentations), numeric
(normalization, discretization), categorical (encoding, hashing, lookups) and text."""

from ndflow.keras.layers.preprocessing.image_preprocessing import (
    CenterCrop,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from ndflow.keras.layers.preprocessing.lookup import (
    CategoryEncoding,
    Hashing,
    IntegerLookup,
    StringLookup,
)
from ndflow.keras.layers.preprocessing.normalization import Discretization, Normalization
from ndflow.keras.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "StringLookup",
    "TextVectorization",
]
