"""`aicrc explain` says where each criterion came from: the snapshot reading that chose it (with
--snapshot), the flag, the --criteria file or the recipe that gave it, or the dimension's default;
in its text and in its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import ROOT

H200 = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"
H100_EKS = ROOT / "recipes" / "h100-eks-training.aicr"
VALUE = "gpu-operator.driver.version"


def explain(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(["explain", *arguments]) == 0
    return capsys.readouterr().out


def test_the_snapshot_reading_that_chose_each_criterion_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "--snapshot", str(H200), "--intent", "Training", VALUE)
    assert out.startswith(f'{VALUE} = "580.105.08"\n  set by ')
    assert out.endswith(
        "\ncriteria of h200-ubuntu-training-kubeflow:\n"
        '  accelerator = h200   from snapshot GPU.smi.gpu.model = "NVIDIA H200"\n'
        '  os = ubuntu          from snapshot OS.release.ID = "ubuntu"\n'
        "  intent = training    from --intent (given as Training)\n"
        "  platform = kubeflow  from the default at <stdlib>/dimensions.aicr:30:5\n"
    )


def test_a_flag_given_beside_the_snapshot_is_named_instead_of_the_reading(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "--snapshot", str(H200), "--intent", "training", "--accelerator", "h100", VALUE)
    assert "  accelerator = h100   from --accelerator\n" in out
    assert "GPU.smi.gpu.model" not in out


def test_the_json_carries_each_criterion_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(explain(capsys, "--snapshot", str(H200), "--intent", "training", VALUE, "--format", "json"))
    assert data["recipe"] == "h200-ubuntu-training-kubeflow"
    assert data["criteria"] == [
        {
            "dimension": "accelerator",
            "value": "h200",
            "given": "h200",
            "source": "snapshot",
            "from": 'snapshot GPU.smi.gpu.model = "NVIDIA H200"',
        },
        {"dimension": "os", "value": "ubuntu", "given": "ubuntu", "source": "snapshot", "from": 'snapshot OS.release.ID = "ubuntu"'},
        {"dimension": "intent", "value": "training", "given": "training", "source": "flag", "from": "--intent"},
        {
            "dimension": "platform",
            "value": "kubeflow",
            "given": None,
            "source": "default",
            "from": "the default at <stdlib>/dimensions.aicr:30:5",
        },
    ]
    [story] = data["values"]
    assert (story["path"], story["value"]) == (VALUE, "580.105.08")


def test_criteria_a_recipe_binds_point_at_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, str(H100_EKS), VALUE)
    assert f"  service = eks        from recipe h100-eks-training at {H100_EKS.as_posix()}:3:5\n" in out  # the file as named
    assert f"  intent = training    from recipe h100-eks-training at {H100_EKS.as_posix()}:6:5\n" in out


def test_criteria_from_a_criteria_file_point_at_its_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "criteria.yaml"
    file.write_text("kind: RecipeCriteria\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  service: eks\n  accelerator: H100\n")
    data = json.loads(explain(capsys, "--criteria", str(file), "--intent", "training", VALUE, "--format", "json"))
    by_dimension = {criterion["dimension"]: criterion for criterion in data["criteria"]}
    assert by_dimension["accelerator"] == {
        "dimension": "accelerator",
        "value": "h100",
        "given": "H100",
        "source": "criteria-file",
        "from": f"--criteria at {file.as_posix()}:5:16",
    }
    assert by_dimension["intent"]["source"] == "flag"
