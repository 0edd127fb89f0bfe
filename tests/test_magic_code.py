"""The code for a spec (``spec.to_magic()``, the form's "Show as code") is run as a user runs it,
in a real IPython shell against the emulator over real HTTP, and must recreate the spec exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from qoder_jupyter.display import RequestPreview
from qoder_jupyter.spec import EnvironmentSpec

from ._fuzz import examples
from .test_magics import run
from .test_spec_properties import valid_specs

SCRIPT = "#!/usr/bin/env bash\nset -euo pipefail\necho \"$HOME\" `date` '{x}' $((1 + 2))\n"

AWKWARD = {
    "a two-line description": EnvironmentSpec(name="two", description="first line\nsecond line"),
    "a shell script with both quotes, $ and backticks": EnvironmentSpec(
        name="script", setup_script=SCRIPT
    ),
    "unicode everywhere": EnvironmentSpec(
        name="données-ü", description="naïve — “quoted” ✓\n第二行", metadata={"équipe": "été\n"}
    ),
    "blank lines kept at the end": EnvironmentSpec(name="tail", setup_script="make\n\n\n"),
    "spaces at the ends of lines": EnvironmentSpec(name="spaces", setup_script="  a  \n\tb \n "),
    "other line breaks": EnvironmentSpec(name="breaks", description="a\rb\r\nc\x0cd\u2028e\x85f"),
    "values YAML would read as something else": EnvironmentSpec(
        name="yes",
        description="no\n",
        metadata={"on": "off", "n": "1.0", "date": "2024-01-01", "null": "~", "star": "*x"},
    ),
    "a value that looks like a flag, and braces": EnvironmentSpec(
        name="flags", description="--dry-run\n{name}", pip=["pandas>=2", "numpy"]
    ),
    "a self-hosted runner's script": EnvironmentSpec(
        name="runner", config_type="self_hosted", setup_script="cd /srv\n./start.sh 'x y'"
    ),
}


def run_code(shell, code: str, *extra: str):
    """Run ``code`` with ``extra`` flags added to its first line, as a user edits the command."""
    first, _, rest = code.partition("\n")
    return run(shell, " ".join([first, *extra]) + ("\n" + rest if rest else ""))


@pytest.mark.parametrize("spec", AWKWARD.values(), ids=AWKWARD.keys())
def test_the_code_of_an_awkward_spec_runs_and_recreates_it(shell, emulator, spec):
    code = spec.to_magic()
    assert code.startswith("%%qoder_env create\n"), "a line break needs the cell form"
    ran = run_code(shell, code, "--dry-run")
    assert ran.error is None, ran
    assert ran.result.body == spec.to_body()
    assert ran.result.magic == code

    created = run_code(shell, code)
    assert created.error is None, created
    assert created.result.to_spec() == spec
    assert emulator.environments()[-1]["name"] == spec.name


def test_a_spec_that_fits_on_one_line_keeps_the_one_line_command(shell):
    spec = EnvironmentSpec(name="one", description='it\'s "quoted" $HOME `x` {y} ü', pip=["a"])
    code = spec.to_magic()
    assert code == spec.to_magic_line()
    assert "\n" not in code
    assert run(shell, code + " --dry-run").result.body == spec.to_body()


def test_the_cell_reads_as_a_script_is_written():
    code = AWKWARD["a shell script with both quotes, $ and backticks"].to_magic()
    assert code == (
        "%%qoder_env create\n"
        "name: script\n"
        "config:\n"
        "  type: cloud\n"
        "  setup_script: |\n"
        "    #!/usr/bin/env bash\n"
        "    set -euo pipefail\n"
        "    echo \"$HOME\" `date` '{x}' $((1 + 2))"
    )


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=valid_specs())
def test_the_code_of_any_valid_spec_runs_and_recreates_it(shell, spec):
    # Any value the strategies make, line breaks and control characters included.
    ran = run_code(shell, spec.to_magic(), "--dry-run")
    assert ran.error is None, ran
    assert isinstance(ran.result, RequestPreview)
    assert ran.result.body == spec.to_body()
    assert EnvironmentSpec.from_body(ran.result.body) == spec
    assert ran.result.magic == spec.to_magic()
