"""Synthetic libraries for the scale benchmarks: as many components and layers as asked, shaped
like the standard library.

    python benchmarks/synthetic.py OUT --components 10000 [--layers 1000]

writes OUT/lib (a library: dimensions with families and aliases, components in files of five,
layers in files of ten, features) and OUT/recipe.aicr (a recipe over it). The shapes are the
standard library's: every component has a chart, a namespace and a values tree of about twenty
leaves (nested maps, lists of maps, quoted keys, numbers, booleans), and needs up to three
components defined before it; base layers use every component; each other layer (environment,
os, intent, hardware or platform, `when` a predicate over one or two dimensions, families
included, no two of a kind alike) overrides values of its own ten components through `set` and `values` blocks, adds
`needs`, and enables a feature, sometimes under a `when` rule. Layers of equal precedence never
touch the same component, so every library compiles, whatever its size. The same sizes give the
same files (a fixed seed), which `aicrc check` finds nothing in.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

COMPONENTS_PER_FILE = 5  # the standard library has one or two a file; overlays bundle a few
LAYERS_PER_FILE = 10
COMPONENTS_PER_LAYER = 10
KINDS = ("environment", "os", "intent", "hardware", "platform")
DIMENSIONS = {
    "service": [f"cloud{i}" for i in range(8)],
    "accelerator": [f"gpu{i}" for i in range(12)],
    "os": ["linux0", "linux1", "linux2", "linux3"],
    "intent": ["training", "inference"],
    "platform": ["batch", "serving", "notebook"],
}
FAMILIES = {"accelerator": {"older": ["gpu0", "gpu1", "gpu2", "gpu3"], "newer": ["gpu8", "gpu9", "gpu10", "gpu11"]}}
CRITERIA = {"service": "cloud0", "accelerator": "gpu9", "os": "linux0", "intent": "training", "platform": "batch"}
# The dimension a layer of each kind names first (a second one, sometimes, makes it more specific).
NAMED_BY = {"environment": "service", "os": "os", "intent": "intent", "hardware": "accelerator", "platform": "platform"}


def write_library(out: Path, components: int, layers: int | None = None, seed: int = 13) -> Path:
    """Write the library and its recipe under `out`; returns the recipe's path."""
    rng = random.Random(seed)
    layers = components // 10 if layers is None else layers
    library = out / "lib"
    (library / "components").mkdir(parents=True, exist_ok=True)
    (library / "layers").mkdir(parents=True, exist_ok=True)
    names = [f"comp-{index:05d}" for index in range(components)]
    features = max(1, layers // 10)
    (library / "dimensions.aicr").write_text(_dimensions(), encoding="utf-8")
    (library / "features.aicr").write_text(_features(features, names, rng), encoding="utf-8")
    for start in range(0, components, COMPONENTS_PER_FILE):
        text = "\n".join(_component(index, names, rng) for index in range(start, min(start + COMPONENTS_PER_FILE, components)))
        (library / "components" / f"components-{start // COMPONENTS_PER_FILE:04d}.aicr").write_text(text, encoding="utf-8")
    taken: set[tuple[str, str]] = set()  # (kind, when): the linter would flag a second one
    (library / "layers" / "base.aicr").write_text(_base_layer(names), encoding="utf-8")
    bodies = [_layer(index, names, features, rng, taken) for index in range(layers)]
    for start in range(0, len(bodies), LAYERS_PER_FILE):
        text = "\n".join(bodies[start : start + LAYERS_PER_FILE])
        (library / "layers" / f"layers-{start // LAYERS_PER_FILE:04d}.aicr").write_text(text, encoding="utf-8")
    recipe = out / "recipe.aicr"
    bindings = "\n".join(f"    {name} = {value}" for name, value in CRITERIA.items())
    recipe.write_text(f"recipe synthetic {{\n{bindings}\n    set {names[0]}.replicas = 3\n}}\n", encoding="utf-8")
    return recipe


def _dimensions() -> str:
    parts = []
    for name, values in DIMENSIONS.items():
        lines = [f"    values {', '.join(values)}"]
        lines += [f"    family {family} = [{', '.join(members)}]" for family, members in FAMILIES.get(name, {}).items()]
        if name == "accelerator":
            lines.append("    alias flagship = gpu9")
        parts.append(f"dimension {name} {{\n" + "\n".join(lines) + "\n}\n")
    return "\n".join(parts)


def _features(count: int, names: list[str], rng: random.Random) -> str:
    return "\n".join(f"feature feature-{index} {{ set {rng.choice(names)}.features.f{index} = true }}\n" for index in range(count))


def _component(index: int, names: list[str], rng: random.Random) -> str:
    name = names[index]
    needs = sorted(set(rng.sample(names[:index], min(index, rng.randint(0, 3)))))
    needs_line = f"    needs {', '.join(needs)}\n" if needs else ""
    return f"""# {name}: a service of the synthetic platform, with the values a real chart takes.
component {name} {{
    chart {name} from "oci://registry.example.com/charts" version "{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    namespace ns-{index % 97}
{needs_line}    values {{
        fullnameOverride = "{name}"
        replicas = {rng.randint(1, 5)}
        image {{
            repository = "registry.example.com/team-{index % 13}/{name}"
            tag = "v{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            pullPolicy = "IfNotPresent"
        }}
        resources {{
            requests {{ cpu = "{rng.choice(["100m", "250m", "500m"])}", memory = "{rng.choice(["128Mi", "256Mi", "1Gi"])}" }}
            limits {{ cpu = "{rng.choice(["1", "2", "4"])}", memory = "{rng.choice(["512Mi", "2Gi", "8Gi"])}" }}
        }}
        nodeSelector {{ "kubernetes.io/os" = "linux" }}
        tolerations = [{{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }}]
        metrics {{ enabled = {rng.choice(["true", "false"])}, port = {9000 + index % 1000}, interval = "30s" }}
        extraArgs = ["--v=2", "--leader-elect={rng.choice(["true", "false"])}"]
        podAnnotations {{ "synthetic.example.com/owner" = "team-{index % 13}" }}
    }}
}}
"""


def _base_layer(names: list[str]) -> str:
    """The base layer: it uses every component, a hundred names a statement."""
    uses = "\n".join(f"    use {', '.join(names[start : start + 100])}" for start in range(0, len(names), 100))
    return f"layer base: base {{\n{uses}\n}}\n"


def _layer(index: int, names: list[str], features: int, rng: random.Random, taken: set[tuple[str, str]]) -> str:
    kind = KINDS[index % len(KINDS)]
    dimension = NAMED_BY[kind]
    when = _predicate(dimension, rng)
    while (kind, when) in taken or rng.random() < 0.3:  # more specific: a second dimension
        other = rng.choice([name for name in DIMENSIONS if name != dimension])
        when = f"{_predicate(dimension, rng)} and {_predicate(other, rng)}"
    taken.add((kind, when))
    # Ten components of its own: a layer never touches what another layer of its kind touches.
    first = (index * COMPONENTS_PER_LAYER) % len(names)
    own = [names[(first + offset) % len(names)] for offset in range(COMPONENTS_PER_LAYER)]
    lines = [f"layer layer-{index:05d}: {kind} when {when} {{"]
    for component in own[:6]:
        lines.append(f'    set {component}.image.tag = "v{rng.randint(5, 9)}.{rng.randint(0, 9)}.0-layer{index}"')
        lines.append(f"    set {component}.tuning.layer{index}.weight = {rng.randint(1, 100)}")
    for component in own[6:]:
        cpu, memory = rng.choice(["2", "4", "8"]), rng.choice(["4Gi", "16Gi", "64Gi"])
        lines += [
            f"    values {component} {{",
            f"        replicas = {rng.randint(2, 8)}",
            f'        resources.limits {{ cpu = "{cpu}", memory = "{memory}" }}',
            f'        env = [{{ name = "LAYER", value = "{index}" }}, {{ name = "KIND", value = "{kind}" }}]',
            "    }",
        ]
    position = names.index(own[-1])
    if position:
        lines.append(f"    needs {own[-1]}: {names[rng.randrange(position)]}")
    feature = f"feature-{rng.randrange(features)}"
    if rng.random() < 0.5:
        lines.append(f"    when accelerator in [{rng.choice(['older', 'newer', 'flagship'])}] enable {feature}")
    else:
        lines.append(f"    enable {feature}")
    lines.append("}\n")
    return "\n".join(lines)


def _predicate(dimension: str, rng: random.Random) -> str:
    values = [*DIMENSIONS[dimension], *FAMILIES.get(dimension, {})]
    if rng.random() < 0.3:
        return f"{dimension} in [{', '.join(sorted(set(rng.sample(values, 2))))}]"
    return f"{dimension} {rng.choice(['==', '==', '!='])} {rng.choice(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=None, help="default: one for every ten components")
    args = parser.parse_args()
    recipe = write_library(args.out, args.components, args.layers)
    print(f"library: {args.out / 'lib'}\nrecipe: {recipe}")


if __name__ == "__main__":
    main()
