"""`python -m ndflow.saved_model show`: saved_model_cli-style inspection."""

import os
import subprocess
import sys

import pytest

import ndflow as tf
from ndflow.saved_model import __main__ as cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Adder(tf.Module):
    def __init__(self):
        super().__init__()
        self.bias = tf.Variable(1.0)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def serve(self, x):
        return {"sum": x + self.bias, "rows": tf.shape(x)[0]}

    @tf.function
    def shift(self, x, by=1):
        return x + by


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("cli") / "adder")
    module = Adder()
    module.shift(tf.constant(2), by=5)
    tf.saved_model.save(module, path)
    return path


def test_tag_sets(model_dir):
    assert cli.show(model_dir) == ("The given SavedModel contains the following tag-sets:\n"
                                   "'serve'")


def test_signature_keys(model_dir):
    assert cli.show(model_dir, "serve") == (
        "The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n"
        'SignatureDef key: "serving_default"')


def test_signature_inputs_and_outputs(model_dir):
    text = cli.show(model_dir, "serve", "serving_default")
    assert text.splitlines() == [
        "The given SavedModel SignatureDef contains the following input(s):",
        "    inputs['x'] tensor_info:",
        "        dtype: DT_FLOAT",
        "        shape: (-1, 3)",
        "        name: serving_default_x:0",
        "The given SavedModel SignatureDef contains the following output(s):",
        "    outputs['rows'] tensor_info:",
        "        dtype: DT_INT32",
        "        shape: ()",
        "        name: StatefulPartitionedCall:0",
        "    outputs['sum'] tensor_info:",
        "        dtype: DT_FLOAT",
        "        shape: (-1, 3)",
        "        name: StatefulPartitionedCall:1",
        "Method name is: tensorflow/serving/predict"]


def test_all_lists_signatures_and_functions(model_dir):
    text = cli.show(model_dir, show_all=True)
    assert text.startswith("MetaGraphDef with tag-set: 'serve' contains the following "
                           "SignatureDefs:\n\nsignature_def['serving_default']:")
    assert "  Function Name: 'serve'" in text
    assert "  Function Name: 'shift'" in text
    assert "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')" in text
    assert "by=5" in text


def test_errors_name_what_is_missing(model_dir, tmp_path):
    with pytest.raises(ValueError, match=r"no signature 'predict'.*\['serving_default'\]"):
        cli.show(model_dir, "serve", "predict")
    with pytest.raises(ValueError, match="no tag-set 'train'"):
        cli.show(model_dir, "train")
    assert cli.main(["show", "--dir", str(tmp_path / "missing")]) == 1


def test_command_line(model_dir):
    result = subprocess.run(
        [sys.executable, "-m", "ndflow.saved_model", "show", "--dir", model_dir, "--tag_set",
         "serve", "--signature_def", "serving_default"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "inputs['x'] tensor_info:" in result.stdout
    assert "outputs['sum'] tensor_info:" in result.stdout
