import pytest

from course_utils.tools import docs

DOC = "# Title\n\n<!-- begin generated: t -->\nold table\n<!-- end generated: t -->\n\nProse.\n"


def test_a_region_is_replaced_and_the_rest_kept():
    new = docs.replace_region(DOC, "t", "| new |")
    assert "old table" not in new and "| new |" in new
    assert new.startswith("# Title") and new.endswith("Prose.\n")
    assert docs.replace_region(new, "t", "| again |").count("generated: t") == 2


@pytest.mark.parametrize("text", ["# no markers\n", DOC + DOC])
def test_a_missing_or_repeated_region_is_refused(text):
    with pytest.raises(ValueError, match="expected one region"):
        docs.replace_region(text, "t", "x")


def test_update_region_rewrites_the_file(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(DOC)
    docs.update_region(path, "t", "| file |")
    assert "| file |" in path.read_text()
