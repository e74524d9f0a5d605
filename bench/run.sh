#!/usr/bin/env bash
# Benchmark of issue 6: hfspaces vs gradio_client vs the seeds' g4f providers vs a bare-aiohttp
# floor, on the replica in zero-latency mode. Sets up bench/.venv on first use, then runs all
# measures and prints one table (also written to bench/latest.md).
#   bash bench/run.sh [--reps 5] [--only 1,2,3,4,5,6,7,8]
#   bash bench/run.sh tools [--reps 9]   # issue 13: tools from any Space vs smolagents / view_api
#   bash bench/run.sh pool [--service 0.5] [--only 1234]   # issue 14: pools of copies
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q -U pip
fi
if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$VENV/bin/pip" install -q -e '.[replica]' 'gradio_client>=2,<3' 'g4f==0.5.7.0' \
        pyinstrument py-spy 'smolagents==1.26.0' 'langchain-core>=1,<2'
    "$VENV/bin/python" -c "from g4f.Provider.hf_space import DeepseekAI_JanusPro7b, \
Microsoft_Phi_4_Multimodal"
    touch "$VENV/.installed"
fi
if [ "${1:-}" = "pool" ]; then
    shift
    exec "$VENV/bin/python" bench/pool.py "$@"
fi
if [ "${1:-}" = "tools" ]; then
    shift
    exec "$VENV/bin/python" bench/space_tools.py "$@"
fi
exec "$VENV/bin/python" bench/main.py "$@"
