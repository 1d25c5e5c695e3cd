"""Callback base class, CallbackList, and the callbacks fit always uses: History, ProgbarLogger.
"""

from ndflow.keras.utils.progbar import Progbar


class Callback:
    """Base class of callbacks: override any of the `on_*` hooks (`keras.callbacks.Callback`).
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    # Keras 2 aliases, still called by old callbacks.
    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class CallbackList:
    """Calls every callback's hook in order; batch hooks run only on callbacks that override
    them, so a fit without per-batch callbacks pays nothing per step."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        self.history = None
        if add_history:
            existing = [c for c in self.callbacks if isinstance(c, History)]
            self.history = existing[0] if existing else History()
            if not existing:
                self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        self.model = model
        self.params = params
        for callback in self.callbacks:
            if model is not None:
                callback.set_model(model)
            callback.set_params(params)
        self._batch_hooks = {}
        for hook in _HOOKS:
            self._batch_hooks[hook] = [c for c in self.callbacks if _overrides(c, hook)]

    def set_params(self, params):
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def wants(self, hook):
        return bool(self._batch_hooks.get(hook))

    def _call(self, hook, *args):
        for callback in self._batch_hooks[hook]:
            getattr(callback, hook)(*args)
            if hook == "on_train_batch_begin" and _overrides_legacy(callback, hook):
                callback.on_batch_begin(*args)
            if hook == "on_train_batch_end" and _overrides_legacy(callback, hook):
                callback.on_batch_end(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


def _overrides(callback, hook):
    if isinstance(callback, ProgbarLogger) and "batch" in hook and callback._verbose != 1:
        return False  # only the animated bar needs per-step logs
    if hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook):
        return True  # overridden in the class, or assigned on the instance
    return hook.startswith("on_train_batch") and _overrides_legacy(callback, hook)


def _overrides_legacy(callback, hook):
    legacy = "on_batch_begin" if hook.endswith("begin") else "on_batch_end"
    return getattr(type(callback), legacy) is not getattr(Callback, legacy)


class History(Callback):
    """Records the logs of every epoch in `history.history` (returned by `fit`)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar of fit/evaluate/predict according to `verbose`."""

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        self._progbar = None
        self._verbose = 1
        self._epochs = 1
        self._seen = 0

    def set_params(self, params):
        super().set_params(params)
        self._verbose = params.get("verbose", 1)
        self._epochs = params.get("epochs", 1)

    def _new_bar(self, target):
        self._seen = 0
        self._progbar = Progbar(target, verbose=self._verbose,
                                stateful_metrics=None, unit_name="step")
        self._progbar.stateful_metrics = _AllNames()

    def on_train_begin(self, logs=None):
        self._mode = "train"

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose and self._epochs > 1:
            print(f"Epoch {epoch + 1}/{self._epochs}")
        self._new_bar(self.params.get("steps"))

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        values = [(k, v) for k, v in (logs or {}).items() if _is_scalar(v)]
        self._progbar.update(self._seen, values, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        seen = steps if self._verbose != 1 and steps else self._seen
        values = [(k, v) for k, v in (logs or {}).items() if _is_scalar(v)]
        self._progbar.update(seen, values, finalize=True)

    def on_test_begin(self, logs=None):
        if self.params.get("_in_fit"):
            self._test_bar = None
            return
        self._new_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if self.params.get("_in_fit"):
            return
        self._seen = batch + 1
        self._progbar.update(self._seen, list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if self.params.get("_in_fit"):
            return
        self._progbar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._progbar.update(self._seen, finalize=False)

    def on_predict_end(self, logs=None):
        self._progbar.update(self._seen, finalize=True)


def _is_scalar(value):
    return getattr(value, "ndim", 0) == 0


class _AllNames:
    def __contains__(self, name):
        return True
