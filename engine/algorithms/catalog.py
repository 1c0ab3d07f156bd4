"""The training algorithms, in the order the Train form lists them: the offline methods
that learn from labels, then the online ones that sample from the policy. Adding an
algorithm is a loss in engine/losses, a class that feeds it, and one spec here."""

from __future__ import annotations

from engine.algorithms import method_settings as m
from engine.algorithms import sampling_settings as sampling
from engine.algorithms.spec import AlgorithmSpec

_OFFLINE = "engine.training.offline"
_ONLINE = "engine.training.online.algorithms"
# What an online run stores and answers for the sample browser and its evaluations.
_ONLINE_SAMPLES = (sampling.SAMPLES_PER_STEP, sampling.EVAL_PROMPTS, *sampling.EVAL_SAMPLES)

DPO = AlgorithmSpec(
    name="dpo",
    label="DPO",
    description="Direct Preference Optimization: learns from pairs, kept close to the "
    "base model (the reference). The usual first choice.",
    online=False,
    data="pairs",
    needs_reference=True,
    default_beta=0.1,
    zero_beta_ok=False,
    settings=(m.BETA, m.LOSS_TYPE, m.LABEL_SMOOTHING, m.RPO_ALPHA, *sampling.EVAL_SAMPLES),
    implementation=f"{_OFFLINE}.dpo:DPO",
)
IPO = AlgorithmSpec(
    name="ipo",
    label="IPO",
    description="DPO with a squared loss that does not overfit labels that are always "
    "the same; try it when DPO's margins keep growing.",
    online=False,
    data="pairs",
    needs_reference=True,
    default_beta=0.1,
    zero_beta_ok=False,
    settings=(m.BETA, m.RPO_ALPHA, *sampling.EVAL_SAMPLES),
    implementation=f"{_OFFLINE}.dpo:DPO",
    fixed=(("loss_type", "ipo"),),
)
SIMPO = AlgorithmSpec(
    name="simpo",
    label="SimPO",
    description="No reference model (less memory); a length-normalised margin.",
    online=False,
    data="pairs",
    needs_reference=False,
    default_beta=2.0,
    zero_beta_ok=False,
    settings=(
        m.BETA,
        m.LABEL_SMOOTHING,
        m.SIMPO_GAMMA_BETA_RATIO,
        m.RPO_ALPHA,
        *sampling.EVAL_SAMPLES,
    ),
    implementation=f"{_OFFLINE}.simpo:SimPO",
)
ORPO = AlgorithmSpec(
    name="orpo",
    label="ORPO",
    description="Supervised fine-tuning on the chosen answers plus an odds-ratio "
    "preference term; no reference model.",
    online=False,
    data="pairs",
    needs_reference=False,
    default_beta=0.1,
    zero_beta_ok=False,
    settings=(m.BETA, *sampling.EVAL_SAMPLES),
    implementation=f"{_OFFLINE}.orpo:ORPO",
)
KTO = AlgorithmSpec(
    name="kto",
    label="KTO",
    description="Learns from single good or bad examples (pairs are split into both); "
    "use it for thumbs-up / thumbs-down labels.",
    online=False,
    data="unpaired",
    needs_reference=True,
    default_beta=0.1,
    zero_beta_ok=False,
    settings=(m.BETA, m.DESIRABLE_WEIGHT, m.UNDESIRABLE_WEIGHT, *sampling.EVAL_SAMPLES),
    implementation=f"{_OFFLINE}.kto:KTO",
)
SFT = AlgorithmSpec(
    name="sft",
    label="SFT",
    description="Supervised fine-tuning: imitates demonstrations (the prompts' reference "
    "answers, or the chosen completions of the labels), loss on the completion only. The "
    "usual warm start before preference training.",
    online=False,
    data="demonstrations",
    needs_reference=False,
    default_beta=0.0,  # no KL term: SFT reads no beta
    zero_beta_ok=False,
    settings=(m.SFT_SOURCE, m.COMPLETION_TEMPLATE, *sampling.EVAL_SAMPLES),
    implementation=f"{_OFFLINE}.sft:SFT",
)
REWARD = AlgorithmSpec(
    name="reward",
    label="Reward model",
    description="Trains a Bradley–Terry scorer of completions from the pairs, for "
    "ranking or later RL.",
    online=False,
    data="pairs",
    needs_reference=False,
    default_beta=0.0,
    zero_beta_ok=False,
    settings=(m.CENTER_REWARDS_COEFFICIENT, m.USE_MARGIN),
    implementation=f"{_OFFLINE}.reward:RewardModel",
    policy="sequence_scorer",
)
GRPO = AlgorithmSpec(
    name="grpo",
    label="GRPO",
    description="Group Relative Policy Optimization: samples a group of completions per "
    "prompt and pushes up those rewarded above their group's mean; no value model. "
    "The usual choice with verifiable rules.",
    online=True,
    data="prompts",
    needs_reference=False,
    default_beta=0.0,  # no KL, as TRL since 0.19 and DAPO
    zero_beta_ok=True,
    settings=(
        m.BETA,
        m.NUM_ITERATIONS,
        m.EPSILON,
        m.EPSILON_HIGH,
        m.GRPO_LOSS_TYPE,
        m.SCALE_REWARDS,
        m.IMPORTANCE_SAMPLING_LEVEL,
        m.MASK_TRUNCATED_COMPLETIONS,
        *sampling.ROLLOUT,
        sampling.DYNAMIC_SAMPLING,
        *_ONLINE_SAMPLES,
    ),
    implementation=f"{_ONLINE}.grpo:GRPO",
)
RLOO = AlgorithmSpec(
    name="rloo",
    label="RLOO",
    description="REINFORCE Leave-One-Out: each completion's baseline is the mean reward "
    "of the other samples of its prompt; no value model.",
    online=True,
    data="prompts",
    needs_reference=False,
    default_beta=0.05,
    zero_beta_ok=True,
    settings=(
        m.BETA,
        m.NUM_ITERATIONS,
        m.EPSILON,
        m.MASK_TRUNCATED_COMPLETIONS,
        m.NORMALIZE_ADVANTAGES,
        *sampling.ROLLOUT,
        sampling.DYNAMIC_SAMPLING,
        *_ONLINE_SAMPLES,
    ),
    implementation=f"{_ONLINE}.grpo:RLOO",
)
PPO = AlgorithmSpec(
    name="ppo",
    label="PPO",
    description="Proximal Policy Optimization with a value head and GAE advantages, kept "
    "near the reference by a KL penalty; the classic RLHF recipe after a reward model.",
    online=True,
    data="prompts",
    needs_reference=False,
    default_beta=0.05,  # the initial KL coefficient
    zero_beta_ok=True,
    settings=(
        m.BETA,
        m.NUM_ITERATIONS,
        m.EPSILON,
        m.GAMMA,
        m.LAM,
        m.VF_COEF,
        m.CLIPRANGE_VALUE,
        m.ENTROPY_COEF,
        m.WHITEN_ADVANTAGES,
        m.KL_TARGET,
        m.KL_HORIZON,
        *sampling.ROLLOUT,
        *_ONLINE_SAMPLES,
    ),
    implementation=f"{_ONLINE}.ppo:PPO",
)
ONLINE_DPO = AlgorithmSpec(
    name="online_dpo",
    label="Online DPO",
    description="Samples two completions per prompt, ranks them by the reward "
    "or a judge, and takes a DPO step on the pair.",
    online=True,
    data="prompts",
    needs_reference=False,
    default_beta=0.1,
    zero_beta_ok=False,
    settings=(
        m.BETA,
        *(s for s in sampling.ROLLOUT if s is not sampling.NUM_GENERATIONS),
        *_ONLINE_SAMPLES,
    ),
    implementation=f"{_ONLINE}.online_dpo:OnlineDPO",
    fixed=(("num_generations", 2),),
    ranks_pairs=True,
)
BEST_OF_N = AlgorithmSpec(
    name="best_of_n",
    label="Best-of-N",
    description="Rejection-sampling fine-tuning (RAFT, expert iteration): samples N "
    "completions per prompt, keeps the best by the reward, and fine-tunes on them with the "
    "SFT loss; no reference, no value model.",
    online=True,
    data="prompts",
    needs_reference=False,
    default_beta=0.0,  # no KL term: best-of-N reads no beta
    zero_beta_ok=False,
    settings=(
        m.NUM_ITERATIONS,
        m.BEST_OF_N_TOP_K,
        m.BEST_OF_N_MIN_REWARD,
        *sampling.ROLLOUT,
        *_ONLINE_SAMPLES,
    ),
    implementation=f"{_ONLINE}.best_of_n:BestOfN",
)

SPECS = (DPO, IPO, SIMPO, ORPO, KTO, SFT, REWARD, GRPO, RLOO, PPO, ONLINE_DPO, BEST_OF_N)
