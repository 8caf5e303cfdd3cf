"""The traffic model's output is pinned: these digests were taken from the model before it
was made faster (a frozen-dataclass SimHit, `rng.choices`/`rng.choice`/`rng.randrange`
calls), so a seed still gives exactly the traffic it always gave. And each shortcut draw
consumes the generator exactly like the `random` call it replaces."""

from __future__ import annotations

import hashlib
import random

import pytest

from collector.simulate_model import _HOUR_WEIGHTS, _PAGE_WEIGHTS, SimConfig, _Draw, generate

GOLDEN = [
    (SimConfig(300, 14, 7), 1730, "4ac9f6f5ddb072ab6d8a1da21437cb953a5ce5e194c691f330adf7972381d689"),
    (SimConfig(150, 7, 5), 687, "6df0af6bacb6aab035d9702b7e1139b7dac19bdad7aa764ca389341e26637fff"),
    (SimConfig(1000, 30, 1), 7459, "25a996069d6b748e29339110bacdddcff560b9362e1c742a95becb8e653505b2"),
    (
        SimConfig(500, 3, 42, "other", 1_700_000_000_000, 90_000),
        2149,
        "3ab5ebc37e0a54b7a3fdfda7e98ca9adab89d8fa604482509eecd868d28ce30a",
    ),
    (SimConfig(0, 1), 0, "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"),
    (SimConfig(2000, 60, 3), 15713, "6c5d01fe9cf240b665af1d91e82cf1b593172c47d7e695c29d1670e3dfb5a063"),
]  # fmt: skip


def digest(config: SimConfig) -> tuple[int, str]:
    traffic = generate(config)
    h = hashlib.sha256()
    for x in traffic.hits:
        h.update(repr((x.site, x.uid, x.t_ms, x.title, x.params, x.path)).encode())
    for v in traffic.visitors:
        fields = (v.uid, v.company, v.email, v.screen, v.user_agent, v.identified_at, len(v.hits))
        h.update(repr(fields).encode())
    h.update(repr(sorted(traffic.user_agents.items())).encode())
    return len(traffic.hits), h.hexdigest()


@pytest.mark.parametrize(("config", "hits", "sha"), GOLDEN)
def test_seed_gives_the_pinned_traffic(config: SimConfig, hits: int, sha: str) -> None:
    assert digest(config) == (hits, sha)


def test_draws_consume_the_generator_like_random() -> None:
    for seed in range(5):
        ours, ref = _Draw(random.Random(seed)), random.Random(seed)
        for n in (1, 2, 3, 5, 12, 16, 3_600_000, 900_000_000, 5 * 86_400_000):
            assert [ours.below(n) for _ in range(50)] == [ref.randrange(n) for _ in range(50)]
        for weights in (_HOUR_WEIGHTS, _PAGE_WEIGHTS, [1.0, 0.25, 0.25, 1.0]):
            pick = ours.weighted(weights)
            population = range(len(weights))
            want = [ref.choices(population, weights)[0] for _ in range(200)]
            assert [pick() for _ in range(200)] == want
        seq = ("a", "b", "c", "d", "e", "f", "g")
        assert [seq[ours.below(len(seq))] for _ in range(50)] == [
            ref.choice(seq) for _ in range(50)
        ]
        assert ours.random() == ref.random()  # still in step
