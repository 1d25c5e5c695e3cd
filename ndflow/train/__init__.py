"""`tf.train`: Example protocol messages (Checkpoint joins them here)."""

from ndflow.train.checkpoint import (  # noqa: F401
    Checkpoint,
    CheckpointOptions,
    list_variables,
    load_checkpoint,
    load_variable,
)
from ndflow.train.checkpoint_management import (  # noqa: F401
    CheckpointManager,
    get_checkpoint_state,
    latest_checkpoint,
)
from ndflow.train.example import (  # noqa: F401 - public names
    BytesList,
    Example,
    Feature,
    FeatureList,
    FeatureLists,
    Features,
    FloatList,
    Int64List,
    SequenceExample,
)
