"""`keras.utils.Progbar`: the progress bar fit/evaluate/predict print (Keras 3 style)."""

import sys
import time


def _format_value(value):
    value = float(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.4e}"
    return f"{value:.4f}"


def _format_duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Displays progress: `update(current, values)` with (name, value) pairs averaged over the
    steps seen (`stateful_metrics` are shown as given).

    Args:
      target: total number of steps, or None if unknown.
      width: bar width in characters.
      verbose: 1 for an animated bar, 2 for one line at the end, 0 for silence.
      interval: minimum seconds between updates of the bar.
      unit_name: "step" or "sample".
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._stream = stream or sys.stdout
        self._values = {}
        self._order = []
        self._start = time.time()
        self._last_update = 0.0
        self._seen = 0
        self._dynamic = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._printed_width = 0

    def update(self, current, values=None, finalize=None):
        """Records `values` at step `current` and redraws the bar if due."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = (float(value), 1)
            else:
                previous = self._values.get(name, (0.0, 0))
                steps = max(current - self._seen, 1)
                self._values[name] = (previous[0] + float(value) * steps, previous[1] + steps)
        self._seen = current
        now = time.time()
        if self.verbose == 0:
            return
        if self.verbose == 2 and not finalize:
            return
        if not finalize and now - self._last_update < self.interval:
            return
        self._last_update = now
        line = self._line(current, now, finalize)
        if self.verbose == 1 and self._dynamic:
            padding = max(self._printed_width - len(line), 0)
            self._stream.write("\r" + line + " " * padding)
            self._printed_width = len(line)
            if finalize:
                self._stream.write("\n")
        elif finalize:
            self._stream.write(line + "\n")
        self._stream.flush()

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _line(self, current, now, finalize):
        elapsed = now - self._start
        per_unit = elapsed / max(current, 1)
        if self.verbose == 2:
            rate = _per_step(per_unit).replace("step", self.unit_name)
            target = self.target if self.target is not None else current
            line = f"{current}/{target} - {_format_duration(elapsed)} - {rate}"
            return line + self._metrics_text()
        parts = []
        if self.target is not None:
            digits = len(str(self.target))
            filled = int(self.width * min(current / max(self.target, 1), 1.0))
            bar = "\u2501" * filled + "\u2500" * (self.width - filled) if not finalize else \
                "\u2501" * self.width
            parts.append(f"{current:>{digits}}/{self.target} {bar}")
        else:
            parts.append(f"{current}")
        rate = _per_step(per_unit).replace("step", self.unit_name)
        if finalize or self.target is None:
            parts.append(f"{_format_duration(elapsed)} {rate}")
        else:
            parts.append(f"ETA: {_format_duration(per_unit * (self.target - current))} {rate}")
        return " ".join(parts) + self._metrics_text()

    def _metrics_text(self):
        text = ""
        for name in self._order:
            total, count = self._values[name]
            value = total / max(count, 1)
            text += f" - {name}: {_format_value(value)}"
        return text
