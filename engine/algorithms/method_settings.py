"""The settings of the training methods themselves (the form's "Method" box). A setting
several algorithms share (beta, epsilon, num_iterations, label_smoothing, ...) is one
object here that each of their specs lists; its choices come from the losses."""

from __future__ import annotations

from engine.algorithms.settings import Setting
from engine.losses import options

# The lower bound is open except for the algorithms whose spec says zero_beta_ok.
BETA = Setting(
    "beta",
    None,
    "Strength of the preference or KL term. Empty: the method's "
    "default (DPO/IPO/KTO/Online DPO 0.1, SimPO 2.0, ORPO lambda 0.1; "
    "online: the KL weight, GRPO 0 = no reference, RLOO 0.05, PPO's "
    "initial KL coefficient 0.05). Lower lets the policy move further "
    "from the reference.",
    "method",
    "optional_float",
    low=0,
    low_open=True,
)

# --- offline preference methods ---------------------------------------------------------
LOSS_TYPE = Setting(
    "loss_type",
    "sigmoid",
    "DPO loss: sigmoid (DPO), robust (with label_smoothing), hinge "
    "(SLiC) or ipo. The ipo algorithm sets ipo.",
    "method",
    "str",
    choices=options.DPO_LOSS_TYPES,
)
LABEL_SMOOTHING = Setting(
    "label_smoothing",
    0.0,
    "Assumed share of wrong labels (cDPO / robust DPO), 0 to 0.5.",
    "method",
    "float",
    low=0,
    high=0.5,
    high_open=True,
)
RPO_ALPHA = Setting(
    "rpo_alpha",
    0.0,
    "DPO/IPO/SimPO: weight of an NLL term on the chosen completions (RPO, Pang "
    "et al. 2024; with SimPO, CPO-SimPO: TRL's cpo_alpha) that stops the chosen "
    "likelihood from falling; try 1.0.",
    "method",
    "float",
    low=0,
    label="RPO alpha",
)
SIMPO_GAMMA_BETA_RATIO = Setting(
    "simpo_gamma_beta_ratio",
    0.5,
    "SimPO's target margin gamma as a share of beta.",
    "method",
    "float",
    low=0,
    label="Gamma / beta",
)
DESIRABLE_WEIGHT = Setting(
    "desirable_weight",
    1.0,
    "KTO weight of desirable examples; raise it when they are fewer than the undesirable ones.",
    "method",
    "float",
    low=0,
    low_open=True,
)
UNDESIRABLE_WEIGHT = Setting(
    "undesirable_weight",
    1.0,
    "KTO weight of undesirable examples.",
    "method",
    "float",
    low=0,
    low_open=True,
)
CENTER_REWARDS_COEFFICIENT = Setting(
    "center_rewards_coefficient",
    None,
    "Reward model: weight of the term that keeps rewards centred on 0 (TRL suggests 0.01).",
    "method",
    "optional_float",
    low=0,
)
USE_MARGIN = Setting(
    "use_margin",
    False,
    "Reward model: require the labelled margin between chosen and rejected.",
    "method",
    "bool",
)

# --- supervised fine-tuning ------------------------------------------------------------
# Where SFT's demonstrations come from (workbench.training.data builds them).
SFT_SOURCES = ("references", "chosen")
SFT_SOURCE = Setting(
    "sft_source",
    "references",
    "SFT: what to imitate: references (each train-split prompt's reference "
    "answer, e.g. an imported chat dataset's assistant turns; eval-split ones "
    "are the eval set) or chosen (the chosen completions of the labelled pairs "
    "and the completions labelled desirable, selected like DPO's labels).",
    "method",
    "str",
    choices=SFT_SOURCES,
    label="Demonstrations",
)
COMPLETION_TEMPLATE = Setting(
    "completion_template",
    "{reference}",
    "SFT with references: the completion to learn, with {reference} replaced "
    "by the prompt's reference answer; write the answer format the model should "
    'give (the demo: "The answer is {reference}.").',
    "method",
    "str",
)

# --- best-of-N (rejection sampling fine-tuning) -----------------------------------------
BEST_OF_N_TOP_K = Setting(
    "best_of_n_top_k",
    1,
    "Best-of-N: completions kept per prompt, the highest rewarded (ties: "
    "the first sampled); the SFT loss trains on those only.",
    "method",
    "int",
    low=1,
    label="Keep top k",
)
BEST_OF_N_MIN_REWARD = Setting(
    "best_of_n_min_reward",
    None,
    "Best-of-N: keep a completion only if its reward is at least this "
    "(e.g. 1.0: only verified answers); empty: the top k whatever their reward.",
    "method",
    "optional_float",
    label="Min. reward kept",
)

# --- online methods: clipped policy updates ------------------------------------------
NUM_ITERATIONS = Setting(
    "num_iterations",
    1,
    "Online: optimizer updates on each batch of rollouts (GRPO's "
    "mu, PPO's epochs); above 1 the importance ratio and clipping act.",
    "method",
    "int",
    low=1,
    label="Updates per batch",
)
EPSILON = Setting(
    "epsilon",
    0.2,
    "Online: clip range of the importance ratio (lower bound 1 - epsilon).",
    "method",
    "float",
    low=0,
    high=1,
    low_open=True,
    label="Clip epsilon",
)
EPSILON_HIGH = Setting(
    "epsilon_high",
    None,
    "GRPO: upper clip 1 + epsilon_high (DAPO's clip-higher, e.g. 0.28); empty: epsilon.",
    "method",
    "optional_float",
    low=0,
    low_open=True,
    label="Clip epsilon high",
)
GRPO_LOSS_TYPE = Setting(
    "grpo_loss_type",
    "dapo",
    "GRPO loss aggregation: grpo (mean per sequence), bnpo "
    "(tokens of the micro-batch), dr_grpo (batch x max length, no length "
    "bias) or dapo (tokens of the whole step; TRL's default).",
    "method",
    "str",
    choices=options.GRPO_LOSS_TYPES,
    label="Loss aggregation",
)
SCALE_REWARDS = Setting(
    "scale_rewards",
    "group",
    "GRPO: divide advantages by the reward std of the group, of the batch, or none (Dr. GRPO).",
    "method",
    "str",
    choices=options.SCALE_REWARDS,
)
IMPORTANCE_SAMPLING_LEVEL = Setting(
    "importance_sampling_level",
    "token",
    "GRPO: importance ratio per token, or per sequence (GSPO, Zheng et al. 2025).",
    "method",
    "str",
    choices=options.IMPORTANCE_SAMPLING_LEVELS,
    label="Importance ratio",
)
MASK_TRUNCATED_COMPLETIONS = Setting(
    "mask_truncated_completions",
    False,
    "GRPO/RLOO: completions cut at max_completion_length get no loss (DAPO).",
    "method",
    "bool",
)
NORMALIZE_ADVANTAGES = Setting(
    "normalize_advantages",
    False,
    "RLOO: normalise the advantages over the batch.",
    "method",
    "bool",
)

# --- PPO --------------------------------------------------------------------------------
GAMMA = Setting(
    "gamma",
    1.0,
    "PPO: discount of future rewards within a completion.",
    "method",
    "float",
    low=0,
    high=1,
    label="Discount gamma",
)
LAM = Setting(
    "lam",
    0.95,
    "PPO: GAE lambda, the bias-variance trade-off of the advantages.",
    "method",
    "float",
    low=0,
    high=1,
    label="GAE lambda",
)
VF_COEF = Setting(
    "vf_coef",
    0.1,
    "PPO: weight of the value loss.",
    "method",
    "float",
    low=0,
    label="Value loss weight",
)
CLIPRANGE_VALUE = Setting(
    "cliprange_value",
    0.2,
    "PPO: clip range of the value updates.",
    "method",
    "float",
    low=0,
    label="Value clip range",
)
ENTROPY_COEF = Setting(
    "entropy_coef",
    0.0,
    "PPO: weight of an entropy bonus that keeps sampling diverse.",
    "method",
    "float",
    low=0,
    label="Entropy bonus",
)
WHITEN_ADVANTAGES = Setting(
    "whiten_advantages",
    True,
    "PPO: normalise advantages to mean 0, std 1 per batch.",
    "method",
    "bool",
)
KL_TARGET = Setting(
    "kl_target",
    None,
    "PPO: adaptive KL coefficient aiming at this KL (Ziegler "
    "et al. 2019, e.g. 6.0); empty: fixed coefficient beta.",
    "method",
    "optional_float",
    low=0,
    low_open=True,
    label="KL target",
)
KL_HORIZON = Setting(
    "kl_horizon",
    10000,
    "PPO: horizon of the adaptive KL controller.",
    "method",
    "int",
    low=1,
    label="KL horizon",
)
