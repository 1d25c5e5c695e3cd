"""`tf.train`: Example protocol messages (Checkpoint joins them here)."""

from ndflow.train.example import (  # noqa: F401 - public names
    BytesList, Example, Feature, FeatureList, FeatureLists, Features, FloatList, Int64List,
    SequenceExample,
)
from ndflow.train.checkpoint import Checkpoint, CheckpointOptions, list_variables, load_variable, load_checkpoint  # noqa: F401
from ndflow.train.checkpoint_management import CheckpointManager, latest_checkpoint, get_checkpoint_state  # noqa: F401
