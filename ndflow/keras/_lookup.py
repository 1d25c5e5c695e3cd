"""The `serialize` / `deserialize` / `get` trio that regularizers and constraints share: objects
by alias name, class name, config dict or callable; only known or custom classes are built."""


def accessors(kind, module, aliases):
    """(serialize, deserialize, get) for objects of `kind` ('regularizer', 'constraint')."""

    def serialize(obj):
        return {"module": module, "class_name": type(obj).__name__,
                "config": obj.get_config(), "registered_name": None}

    def deserialize(config, custom_objects=None):
        name = config["class_name"]
        cls = (custom_objects or {}).get(name) or aliases.get(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: '{name}'")
        return cls.from_config(config.get("config", {}))

    def get(identifier):
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return deserialize(identifier)
        if isinstance(identifier, str) and identifier in aliases:
            return aliases[identifier]()
        if callable(identifier) and not isinstance(identifier, str):
            return identifier
        raise ValueError(f"Could not interpret {kind} identifier: {identifier}")

    return serialize, deserialize, get
