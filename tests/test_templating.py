"""The filters every page shares."""

from tre.templating import environment, prose


def test_prose_lists_names_as_a_sentence_does():
    assert prose([]) == ""
    assert prose(["Treton Police"]) == "Treton Police"
    assert prose(["A", "B"]) == "A and B"
    assert prose(["A", "B", "C"]) == "A, B and C"


def test_prose_is_a_filter_and_its_names_are_escaped():
    page = environment().from_string("{{ names|prose }}").render(names=["<b>A</b>", "B"])
    assert page == "&lt;b&gt;A&lt;/b&gt; and B"
