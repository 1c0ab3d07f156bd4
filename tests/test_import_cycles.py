"""No import circles among engine/, workbench/ and ui/.

Every import counts (tests/import_graph.py reads them with `ast`): at module level, inside
functions (a deferred import still ties the two modules together) and under
`if TYPE_CHECKING:` (it never runs, but two modules that each need the other's names are
one design split in two).
"""

from __future__ import annotations

from tests.import_graph import import_graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def enter(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter(sorted(graph[node]))))

    for start in sorted(graph):
        if start in index:
            continue
        work: list = []
        enter(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    enter(child)
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = [stack.pop()]
                while component[-1] != node:
                    component.append(stack.pop())
                on_stack.difference_update(component)
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module, ending where it starts."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{component} holds no circle through {start}")


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    cycle = " -> ".join(one_cycle(graph, component))
    return cycle if len(component) == 2 else f"{cycle} (of the circle {', '.join(component)})"


def test_the_graph_sees_function_level_and_submodule_imports():
    graph = import_graph()
    # ui.app is imported inside workbench.cli.gui's function only (the one upward import).
    assert "ui.app" in graph["workbench.cli.gui"]
    # `from workbench.training import runs` imports the submodule, not the package.
    assert "workbench.training.runs" in graph["workbench.training.history"]
    assert "workbench.training" not in graph["workbench.training.history"]


def test_the_cycle_finder_finds_every_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    components = strongly_connected(graph)
    assert components == [["a", "b", "c"], ["d", "e"]]
    assert one_cycle(graph, components[0]) == ["a", "b", "c", "a"]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    circles = [describe(graph, component) for component in strongly_connected(graph)]
    assert not circles, "import circles:\n" + "\n".join(circles)
