"""The profile store: validation, atomic 0600 round trips with no secrets, next_usable order."""

from __future__ import annotations

import json
import stat

import pytest

from agent_tui.auth.credentials import Credential, Resolution
from agent_tui.auth.profiles import Profile, ProfileStore, UnknownProfileError
from agent_tui.config import ConfigError, Settings, profiles_path


def test_round_trip_keeps_order_active_settings_and_mode_0600(tmp_path):
    path = tmp_path / "config" / "profiles.json"
    store = ProfileStore.load(path)
    assert store.names() == [] and store.active_profile() is None
    store.add("work", config_dir="/Users/alice/.claude-work/", token_env="WORK_CLAUDE_TOKEN")
    store.add("personal")
    store.add("b-team", config_dir="/home/zoë/.claude")
    store.use("personal")
    store.data.settings = Settings(auto_switch=True, model="opus", bash_allowlist=["make"])
    store.save()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ProfileStore.load(path)
    assert again.names() == ["work", "personal", "b-team"]
    assert again.active_profile().name == "personal"
    assert again.get("work").config_dir == "/Users/alice/.claude-work/"
    assert again.get("work").token_env == "WORK_CLAUDE_TOKEN"
    assert again.get("personal").config_dir is None
    assert again.get("b-team").config_dir == "/home/zoë/.claude"
    assert again.settings.auto_switch and again.settings.bash_allowlist == ["make"]


def test_the_saved_file_never_holds_a_token(tmp_path, monkeypatch):
    monkeypatch.setenv("WORK_CLAUDE_TOKEN", "sk-ant-oat01-CANARYcanaryCANARY0001")
    path = tmp_path / "profiles.json"
    store = ProfileStore.load(path)
    store.add("work", config_dir="/x/work", token_env="WORK_CLAUDE_TOKEN")
    store.save()
    text = path.read_text()
    assert "sk-ant" not in text and "CANARY" not in text
    assert json.loads(text)["profiles"][0] == {
        "name": "work",
        "config_dir": "/x/work",
        "token_env": "WORK_CLAUDE_TOKEN",
        "description": "",
    }


def test_a_token_pasted_into_a_field_is_refused_on_save(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore.load(path)
    store.add("work", description="my token is sk-ant-oat01-pastedpastedpasted")
    with pytest.raises(ConfigError, match="looks like a token"):
        store.save()
    assert not path.exists()


def test_the_first_profile_becomes_active_and_remove_clears_it(tmp_path):
    store = ProfileStore.load(tmp_path / "p.json")
    store.add("a")
    store.add("b")
    assert store.active_profile().name == "a"
    store.remove("a")
    assert store.active_profile() is None and store.names() == ["b"]
    store.remove("b")
    assert store.names() == []


def test_the_default_path_comes_from_the_isolated_config_dir(isolated_config):
    assert profiles_path() == isolated_config / "profiles.json"
    store = ProfileStore.load()
    store.add("a")
    store.save()
    assert (isolated_config / "profiles.json").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "bad name!"}, "profile name 'bad name!' must be 1-40 ASCII letters"),
        ({"name": "x" * 41}, "must be 1-40 ASCII letters"),
        ({"name": ""}, "must be 1-40 ASCII letters"),
        ({"name": "é"}, "profile name 'é' must be 1-40 ASCII letters"),  # é is a letter
        ({"name": "a", "config_dir": "~/.claude-work"}, "must be an absolute path"),
        ({"name": "a", "config_dir": "relative/dir"}, "must be an absolute path"),
        ({"name": "a", "token_env": "sk-ant-oat01-notavariable"}, "not the token itself"),
        ({"name": "a", "token_env": "1ABC"}, "name of an environment variable"),
    ],
)
def test_add_rejects_bad_fields_with_a_sentence(tmp_path, kwargs, message):
    store = ProfileStore.load(tmp_path / "p.json")
    with pytest.raises(ConfigError, match=message) as caught:
        store.add(**kwargs)
    assert "sk-ant" not in str(caught.value)
    assert store.names() == []


def test_names_allowed_and_blank_fields_mean_unset(tmp_path):
    store = ProfileStore.load(tmp_path / "p.json")
    profile = store.add("Work.2_b-c", config_dir="", token_env="")
    assert (profile.config_dir, profile.token_env) == (None, None)


def test_duplicates_and_unknown_names_are_config_errors(tmp_path):
    store = ProfileStore.load(tmp_path / "p.json")
    store.add("a")
    with pytest.raises(ConfigError, match="a profile named 'a' already exists"):
        store.add("a")
    for action in (store.use, store.remove, store.get):
        with pytest.raises(UnknownProfileError, match="no profile named 'zz' \\(profiles: a;"):
            action("zz")


def test_an_unknown_profile_is_also_a_key_error():
    with pytest.raises(KeyError) as caught:
        ProfileStore.in_memory([]).get("zz")
    assert str(caught.value).startswith("no profile named 'zz'")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid JSON"),
        ("[]", "is not a valid profiles file"),
        ('{"profiles": [{"name": "bad name"}]}', "profiles.0.name: profile name 'bad name'"),
        ('{"profiles": [{"name": "a"}, {"name": "a"}]}', "profile name 'a' appears twice"),
        # Found by a tester: these were taken (a default login, a guess at "yes", no pause).
        (
            '{"settings": {"pause_between_s": 1e400}}',
            "settings.pause_between_s: Input should be a f",
        ),
        ('{"settings": {"auto_switch": "yes"}}', "settings.auto_switch: Input should be a valid"),
        ('{"settings": {"pause_between_s": -1}}', "settings.pause_between_s: Input should be gr"),
        ('{"settings": {"model": 5}}', "settings.model: Input should be a valid string"),
    ],
)
def test_a_corrupt_file_is_one_config_error(tmp_path, content, message):
    path = tmp_path / "profiles.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        ProfileStore.load(path)
    assert "\n" not in str(caught.value)


def test_an_unreadable_file_is_a_config_error(tmp_path):
    path = tmp_path / "profiles.json"
    path.mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        ProfileStore.load(path)


def test_unknown_fields_survive_a_round_trip(tmp_path):
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"profiles": [{"name": "a", "colour": "blue"}], "future": 1}))
    ProfileStore.load(path).save()
    saved = json.loads(path.read_text())
    assert saved["future"] == 1 and saved["profiles"][0]["colour"] == "blue"


def test_an_in_memory_store_never_writes(tmp_path, isolated_config):
    store = ProfileStore.in_memory([Profile(name="a")], active="a")
    store.add("b")
    store.save()
    assert store.path is None and not isolated_config.exists()
    assert store.active_profile().name == "a"


def usable_only(*names: str):
    """A resolver that calls exactly ``names`` usable, and records who was asked."""
    asked: list[str] = []

    def resolver(profile: Profile) -> Resolution:
        asked.append(profile.name)
        result = Resolution(profile.name, "svc", "alice")
        if profile.name not in names:
            result.problem = "no credentials"
            return result
        result.credential = Credential("t" * 20, "env", "T")
        return result

    resolver.asked = asked
    return resolver


def test_next_usable_follows_the_users_order_and_wraps():
    store = ProfileStore.in_memory([Profile(name=n) for n in ["d", "a", "c", "b"]], "d")
    resolver = usable_only("c", "d")
    assert store.next_usable("d", resolver) == "c"
    assert resolver.asked == ["a", "c"]
    assert store.next_usable("c", resolver) == "d"
    assert store.next_usable("b", resolver) == "d"
    assert store.next_usable("a", resolver) == "c"


def test_next_usable_never_returns_the_current_profile():
    store = ProfileStore.in_memory([Profile(name="a"), Profile(name="b")], "a")
    assert store.next_usable("a", usable_only("a")) is None
    assert store.next_usable("a", usable_only()) is None
    assert ProfileStore.in_memory([]).next_usable("a", usable_only("a")) is None


def test_next_usable_after_an_unknown_name_starts_at_the_top():
    store = ProfileStore.in_memory([Profile(name="a"), Profile(name="b")])
    assert store.next_usable("gone", usable_only("a", "b")) == "a"


def test_next_usable_uses_the_real_resolver_by_default(monkeypatch):
    monkeypatch.setenv("TOKEN_B", "sk-ant-oat01-bbbbbbbbbbbbbbbbbbbb")
    monkeypatch.delenv("TOKEN_A", raising=False)
    store = ProfileStore.in_memory(
        [Profile(name="a", token_env="TOKEN_A"), Profile(name="b", token_env="TOKEN_B")], "a"
    )
    assert store.next_usable("a") == "b"
