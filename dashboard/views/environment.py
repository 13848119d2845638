"""Environment: everything collected for one environment at one commit."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import frames, queries, widgets

st.title("Environment")

store = widgets.open_store()
repo = widgets.pick_repo(store) if store else None
if store is not None and repo is not None:
    sha = widgets.pick_commit(store, repo)
    if sha is not None:
        try:
            envs = queries.environments_at(store.url, store.marker, repo, sha)
            state = queries.state_at(store.url, store.marker, repo, sha)
            pairs = queries.pairs_at(store.url, store.marker, repo, sha)
            unpaired = queries.unpaired_at(store.url, store.marker, repo, sha)
            found = queries.findings(store.url, store.marker, repo, sha)
        except queries.StoreUnavailable as exc:
            st.warning(str(exc))
            st.stop()
        origin = state.get("config_origin") or "conventions"
        for file, message in state.get("config_errors", []):
            st.warning(f"{file}: {message}")
        if not envs:
            st.info(
                f"No training or serving environment was found in {repo} at this commit ({origin}). "
                "Add a `.depaudit.toml` that says which files belong to which environment."
            )
            st.stop()
        st.caption(f"Environments found by: {origin}")
        project = widgets.pick_project(store, repo, sha)
        if project is not None:
            envs = [e for e in envs if e.project == project]
        widgets.plain_table(
            frames.environments_frame(envs),
            key="envs",
            file_name=f"depaudit-{repo}-environments.csv",
        )
        st.subheader("Pairs compared")
        compared = frames.pairs_frame(pairs, found, envs)
        if project is not None:
            compared = compared[compared["project"] == project].reset_index(drop=True)
        if compared.empty:
            st.caption(
                "No training x serving pair was compared: a project needs a training and a "
                "serving environment."
            )
        else:
            st.caption("Only a training and a serving environment of one project are compared.")
            widgets.plain_table(compared, key="pairs", file_name=f"depaudit-{repo}-pairs.csv")
        alone = frames.unpaired_frame(unpaired, envs)
        if project is not None:
            alone = alone[alone["project"] == project].reset_index(drop=True)
        if not alone.empty:
            st.markdown("**Compared with nothing**")
            widgets.plain_table(alone, key="unpaired", file_name=f"depaudit-{repo}-unpaired.csv")
        if not envs:
            st.info(f"No environment of {frames.project_label(project or '')} at this commit.")
            st.stop()
        names = [e.name for e in envs]
        name = widgets.single_choice("Environment", names, param="env")
        env = next(e for e in envs if e.name == name)
        in_project = f", project {frames.project_label(env.project)}" if env.project else ""
        st.subheader(f"{env.name} ({env.role}{in_project}, found by {env.origin})")
        tabs = st.tabs(
            [
                "Files",
                "Packages",
                "Runtime",
                "System packages",
                "Config",
                "Network",
                "Resources",
                "Parse errors",
            ]
        )
        prefix = f"depaudit-{repo}-{env.name}"
        with tabs[0]:
            widgets.plain_table(
                frames.files_frame(env), key="files", file_name=f"{prefix}-files.csv"
            )
        with tabs[1]:
            widgets.plain_table(
                frames.packages_frame(env), key="packages", file_name=f"{prefix}-packages.csv"
            )
            tree = frames.dependency_tree(env)
            if tree:
                with st.expander("Dependency tree (from the lock file)"):
                    st.code(tree, language="text")
        with tabs[2]:
            widgets.plain_table(
                frames.runtime_frame(env), key="runtime", file_name=f"{prefix}-runtime.csv"
            )
        with tabs[3]:
            widgets.plain_table(
                frames.system_packages_frame(env),
                key="system",
                file_name=f"{prefix}-system-packages.csv",
            )
        with tabs[4]:
            st.caption(
                "Secret-looking values were masked when collected; they are shown as stored."
            )
            widgets.plain_table(
                frames.config_frame(env), key="config", file_name=f"{prefix}-config.csv"
            )
        with tabs[5]:
            widgets.plain_table(
                frames.network_frame(env), key="network", file_name=f"{prefix}-network.csv"
            )
        with tabs[6]:
            widgets.plain_table(
                frames.resources_frame(env), key="resources", file_name=f"{prefix}-resources.csv"
            )
        with tabs[7]:
            widgets.plain_table(
                frames.parse_errors_frame(env), key="errors", file_name=f"{prefix}-parse-errors.csv"
            )
        st.subheader("Live (observed)")
        try:
            live = [
                o
                for o in queries.live_snapshots(store.url, store.marker, repo)
                if o.env_name == env.name
            ]
        except queries.StoreUnavailable as exc:
            st.warning(str(exc))
            live = []
        if not live and env.role != "serving":
            st.caption("`depaudit live` observes serving environments; this one is training.")
        elif not live:
            st.caption(
                f"No live observation of {env.name} is recorded. Record what is really "
                "installed on a server with "
                f"`depaudit live --python PATH --repo {repo} --env {env.name}` "
                "(or `--pipdeptree-json FILE` for a capture)."
            )
        else:
            labels = [
                f"{o.observed_at:%Y-%m-%d %H:%M} UTC from {o.source}"
                if o.observed_at is not None
                else f"(unknown time) from {o.source}"
                for o in live
            ]
            picked = st.selectbox(
                "Observation (newest first)",
                range(len(live)),
                format_func=labels.__getitem__,
                key="pick_live",
            )
            obs = live[int(picked or 0)]
            st.caption(
                f"Python {obs.python or 'unknown'} · OS {obs.os or 'unknown'} · "
                f"{len(obs.packages)} installed packages · compared with the declared "
                f"environment at {frames.short_sha(obs.commit_sha) or 'the head'}"
            )
            live_prefix = f"{prefix}-live"
            st.markdown("**Installed packages**")
            widgets.plain_table(
                obs.packages, key="live_packages", file_name=f"{live_prefix}-packages.csv"
            )
            st.markdown(
                "**Live findings** (installed but not declared, declared but not installed, "
                "version outside the specifier, broken dependency)"
            )
            if not obs.findings_recorded:
                st.caption(
                    "No findings were stored with this observation (an older depaudit "
                    "live wrote it): run `depaudit live` again to record them."
                )
            elif obs.findings.empty:
                st.caption("The live environment matches what the repository declares.")
            else:
                widgets.findings_table(
                    obs.findings,
                    columns=[
                        "kind",
                        "item",
                        "status",
                        "severity",
                        "training",
                        "serving",
                        "rule_url",
                        "rule_title",
                        "message",
                    ],
                    key="live_findings",
                    file_name=f"{live_prefix}-findings.csv",
                )
        if state.get("unassigned"):
            st.caption(
                "Environment-looking files placed in no environment: "
                + ", ".join(state["unassigned"][:50])
            )
