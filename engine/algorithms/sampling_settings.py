"""The settings of sampling from the policy: the rollouts of the online methods (the
form's "Rollout" box) and the completions stored for the sample browser."""

from __future__ import annotations

from engine.algorithms.settings import Setting

# --- rollouts ---------------------------------------------------------------------------
NUM_GENERATIONS = Setting(
    "num_generations",
    8,
    "Online: completions sampled per prompt (the group GRPO and "
    "RLOO compare within, best-of-N keeps the best of). Online DPO always samples 2.",
    "rollout",
    "int",
    low=2,
    label="Generations per prompt",
)
MAX_COMPLETION_LENGTH = Setting(
    "max_completion_length",
    64,
    "Online: longest sampled completion, in tokens. A "
    "completion cut at this length has no end token.",
    "rollout",
    "int",
    low=1,
    label="Max completion (tokens)",
)
TEMPERATURE = Setting(
    "temperature",
    1.0,
    "Online: sampling temperature of the rollouts; higher "
    "explores more (and gives GRPO groups that differ).",
    "rollout",
    "float",
    low=0,
    low_open=True,
)
TOP_P = Setting(
    "top_p",
    1.0,
    "Online: nucleus sampling of the rollouts (1 = off).",
    "rollout",
    "float",
    low=0,
    high=1,
    low_open=True,
    label="Top-p",
)
TOP_K = Setting(
    "top_k",
    0,
    "Online: sample only among the k likeliest tokens (0 = off).",
    "rollout",
    "int",
    low=0,
    label="Top-k",
)
ROLLOUT_ENGINE = Setting(
    "rollout_engine",
    "auto",
    "Online: what samples the rollouts: auto (the built-in decode loop, generate() for "
    "other models) or vllm (the optional vLLM extra, colocated on a CUDA GPU with the "
    "adapter synced every step).",
    "rollout",
    "str",
    choices=("auto", "vllm"),
    label="Rollout engine",
)
ROLLOUT = (NUM_GENERATIONS, MAX_COMPLETION_LENGTH, TEMPERATURE, TOP_P, TOP_K, ROLLOUT_ENGINE)
DYNAMIC_SAMPLING = Setting(
    "dynamic_sampling",
    False,
    "GRPO/RLOO: drop groups whose completions all got the same reward (they teach "
    "nothing) and sample other prompts in their place, up to 3 extra rounds a step "
    "(DAPO's dynamic sampling); the reward charts then show the groups trained on. Costs "
    "generation; turn on when many groups are all right or all wrong.",
    "rollout",
    "bool",
)

# --- samples for the sample browser ---------------------------------------------------
SAMPLES_PER_STEP = Setting(
    "samples_per_step",
    2,
    "Online: prompts whose completions, rewards and advantages "
    "are stored every step for the sample browser.",
    "evaluation",
    "int",
    low=0,
)
EVAL_PROMPTS = Setting(
    "eval_prompts",
    64,
    "Online: eval-split prompts answered greedily and scored by the "
    "reward at each evaluation (0: all of them).",
    "evaluation",
    "int",
    low=0,
)
SAMPLES_PER_EVAL = Setting(
    "samples_per_eval",
    4,
    "Eval prompts whose greedy completions are stored at each evaluation.",
    "evaluation",
    "int",
    low=0,
)
SAMPLE_MAX_NEW_TOKENS = Setting(
    "sample_max_new_tokens",
    48,
    "Longest sample completion, in tokens.",
    "evaluation",
    "int",
    low=1,
)
# What every method that generates from the policy stores for the sample browser.
EVAL_SAMPLES = (SAMPLES_PER_EVAL, SAMPLE_MAX_NEW_TOKENS)
