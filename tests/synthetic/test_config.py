"""Generator configuration: every parameter has a source; mistakes are reported by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hepatorisk.cli import main
from hepatorisk.cohorts.synthetic import load_generator_config
from hepatorisk.exceptions import ConfigError
from hepatorisk.paths import DEFAULT_GENERATOR_CONFIG
from hepatorisk.sourced_yaml import load_sourced_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_packaged_defaults_are_the_committed_config() -> None:
    committed = REPO_ROOT / "data" / "synthetic" / "generator.yaml"
    assert DEFAULT_GENERATOR_CONFIG.read_bytes() == committed.read_bytes()


def test_every_parameter_cites_a_source_or_states_an_assumption() -> None:
    loaded = load_sourced_yaml(DEFAULT_GENERATOR_CONFIG)
    assert len(loaded.sources) >= 60
    for key, source in loaded.sources.items():
        assert len(source) > 8, key
        cited = any(tag in source for tag in ("CF §", "design", "CTN-0094", "issue", "CTCAE"))
        stated = any(tag in source for tag in ("assumption", "numerical", "calibrated"))
        assert cited or stated, key


def test_a_parameter_without_source_is_refused_with_its_line(tmp_path: Path) -> None:
    text = DEFAULT_GENERATOR_CONFIG.read_text().replace(
        "cocaine_share: {value: 0.51, source: "
        '"CTN-0094 computed: RBS past-30-day cocaine use 51.3%"}',
        "cocaine_share: 0.51",
    )
    path = tmp_path / "generator.yaml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "cocaine_share" in t)
    with pytest.raises(ConfigError, match=rf"{path}:{line}: parameter 'population.cocaine_share'"):
        load_sourced_yaml(path)


def test_override_file_with_impossible_value_names_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    override = tmp_path / "override.yaml"
    override.write_text("kratom:\n  user_share_target: 1.7\n")
    expected = rf"{override}:2: kratom.user_share_target: .*less than or equal to 1"
    with pytest.raises(ConfigError, match=expected):
        load_generator_config(override)
    code = main(
        [
            "cohort",
            "generate",
            "--patients",
            "10",
            "--out",
            str(tmp_path / "c"),
            "--config",
            str(override),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{override}:2" in err and "Traceback" not in err
    assert not (tmp_path / "c").exists()


def test_override_changes_the_cohort(tmp_path: Path) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"scenario": "high"}))
    config = load_generator_config(override)
    assert config.effects == config.kratom_effects["high"] != load_generator_config().effects
    assert config.population == load_generator_config().population


def test_unknown_scenario_is_refused_with_the_choices(tmp_path: Path) -> None:
    override = tmp_path / "override.yaml"
    override.write_text("scenario: worst\n")
    with pytest.raises(ConfigError, match=rf"{override}:1: scenario: .*'low', 'central' or 'high'"):
        load_generator_config(override)


def test_malformed_yaml_reports_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kratom:\n  user_share_target: [0.4\n")
    with pytest.raises(ConfigError, match=rf"{bad}:\d+: not valid YAML"):
        load_generator_config(bad)
