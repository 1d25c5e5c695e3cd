"""`keras.saving.register_keras_serializable`: the registry of custom objects by name."""

_REGISTRY = {}


def register_keras_serializable(package="Custom", name=None):
    """Class/function decorator registering it as '<package>>Name' for deserialization."""

    def decorate(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in _REGISTRY and _REGISTRY[key] is not obj:
            raise ValueError(f"{key} has already been registered to {_REGISTRY[key]}")
        _REGISTRY[key] = obj
        return obj

    return decorate


def get_registered(class_name, registered_name=None):
    if registered_name and registered_name in _REGISTRY:
        return _REGISTRY[registered_name]
    for key, obj in _REGISTRY.items():
        if key.split(">", 1)[1] == class_name:
            return obj
    return None


def get_registered_name(obj):
    for key, value in _REGISTRY.items():
        if value is obj:
            return key
    return getattr(obj, "__name__", type(obj).__name__)
