"""CSVLogger contents, TensorBoard's JSON-lines scalars, RemoteMonitor posts, LambdaCallback."""

import csv
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import ndflow as tf
from tests.keras.callbacks.callback_helpers import FixedLoss

callbacks = tf.keras.callbacks


def _rows(path, delimiter=","):
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_csv_logger_writes_header_and_rows(tmp_path, data, make_model):
    path = tmp_path / "log.csv"
    model = make_model()
    history = model.fit(*data, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    rows = _rows(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], history.history["loss"])
    assert [r[2] for r in rows[1:]] == ["NA"] * 3


def test_csv_logger_with_validation_and_separator(tmp_path, data, make_model):
    path = tmp_path / "log.tsv"
    model = make_model()
    x, y = data
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x[:8], y[:8]),
              callbacks=[callbacks.CSVLogger(str(path), separator="\t")])
    rows = _rows(path, "\t")
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert len(rows) == 3 and all(r[2] != "NA" for r in rows[1:])


def test_csv_logger_append_writes_header_once(tmp_path, data, make_model):
    path = tmp_path / "log.csv"
    model = make_model()
    for _ in range(2):
        model.fit(*data, epochs=2, verbose=0,
                  callbacks=[callbacks.CSVLogger(str(path), append=True)])
    rows = _rows(path)
    assert rows[0][0] == "epoch"
    assert [r[0] for r in rows[1:]] == ["0", "1", "0", "1"]
    model.fit(*data, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    assert len(_rows(path)) == 2  # append=False starts the file again


def test_tensorboard_writes_json_lines(tmp_path, data, make_model):
    model = make_model()
    x, y = data
    board = callbacks.TensorBoard(str(tmp_path / "logs"), update_freq=2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[board])
    train = [json.loads(line) for line in
             (tmp_path / "logs" / "train" / "scalars.jsonl").read_text().splitlines()]
    validation = [json.loads(line) for line in
                  (tmp_path / "logs" / "validation" / "scalars.jsonl").read_text().splitlines()]
    epoch_loss = [r for r in train if r["tag"] == "epoch_loss"]
    assert [r["step"] for r in epoch_loss] == [0, 1]
    assert [r["step"] for r in train if r["tag"] == "batch_loss"] == [2, 4, 6, 8]
    assert [r["tag"] for r in validation] == ["epoch_loss", "epoch_loss"]
    np.testing.assert_allclose([r["value"] for r in train if r["tag"] ==
                                "epoch_learning_rate"], [0.05, 0.05], rtol=1e-6)


def test_remote_monitor_posts_logs():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_port}"
        callbacks.RemoteMonitor(root=root).on_epoch_end(3, {"loss": np.float32(0.5)})
        callbacks.RemoteMonitor(root=root, path="/json", send_as_json=True).on_epoch_end(
            4, {"loss": 0.25})
    finally:
        server.shutdown()
        server.server_close()
    (path, kind, body), (json_path, json_kind, json_body) = received
    assert path == "/publish/epoch/end/" and kind == "application/x-www-form-urlencoded"
    assert json.loads(urllib.parse.parse_qs(body.decode())["data"][0]) == {"epoch": 3,
                                                                           "loss": 0.5}
    assert json_path == "/json" and json_kind == "application/json"
    assert json.loads(json_body) == {"epoch": 4, "loss": 0.25}


def test_remote_monitor_unreachable_server_warns():
    monitor = callbacks.RemoteMonitor(root="http://127.0.0.1:9")  # discard port: refused
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": 1.0})


def test_lambda_callback_every_hook(data, make_model):
    events = []
    hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
             "on_predict_batch_begin", "on_predict_batch_end"]
    kwargs = {hook: (lambda *args, hook=hook: events.append(hook)) for hook in hooks}
    callback = callbacks.LambdaCallback(**kwargs, note="kept")
    assert callback.note == "kept" and isinstance(callback, callbacks.LambdaCallback)
    model = make_model()
    x, y = data
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[callback])
    assert events == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin",
                      "on_train_batch_end", "on_train_batch_begin", "on_train_batch_end",
                      "on_epoch_end", "on_train_end"]
    events.clear()
    model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[callback])
    assert events == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end",
                      "on_test_end"]
    events.clear()
    model.predict(x, batch_size=32, verbose=0, callbacks=[callback])
    assert events == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
                      "on_predict_end"]


def test_lambda_callback_keras2_batch_hook_and_arguments(data, make_model):
    seen = []
    callback = callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: seen.append((batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: seen.append((epoch, "end")))
    make_model().fit(*data, epochs=1, batch_size=16, verbose=0, callbacks=[callback])
    assert seen == [(0, ["loss"]), (1, ["loss"]), (0, "end")]


def test_lambda_callback_without_batch_hooks_adds_no_batch_work(data, make_model):
    callback = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    listed = callbacks.CallbackList([callback])
    assert not listed.wants("on_train_batch_end")
    assert listed.wants("on_epoch_end")


def test_every_callback_is_exported():
    for name in ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
                 "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
                 "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard",
                 "TerminateOnNaN"]:
        assert isinstance(getattr(callbacks, name), type), name


def test_fixed_loss_helper_overrides_logs():
    logs = {"loss": 3.0}
    FixedLoss([1.0]).on_epoch_end(0, logs)
    assert logs == {"loss": 1.0}
