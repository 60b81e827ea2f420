//! The company network: the seed's analogy for a 2-3-1 network.

use crate::explain::explain_step;
use crate::explanation::Explanation;
use crate::steps::{explain_steps, StepsExplanation, StepsOptions};
use crate::CompanyRoles;
use backprop::activation::Activation;
use backprop::cost::Cost;
use backprop::network::{Network, NetworkConfig};
use backprop::Result;
use serde::Serialize;

/// The company network: 2 salespeople (inputs) → 3 managers (hidden sigmoid units) → 1 CEO
/// (sigmoid output), quadratic cost C = ½(a − y)², a seeded random start, and one sale.
///
/// The weights into a manager are how much that manager trusts each salesperson; the weights
/// into the CEO are how much the CEO trusts each manager. The [`Default`] is a sale for which
/// one step lowers the cost (a test checks it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompanyExample {
    /// The seed of the random start.
    pub seed: u64,
    /// What the two salespeople signal, x.
    pub signals: [f64; 2],
    /// The known result of the sale (the customer feedback), y.
    pub result: f64,
    /// The learning rate η.
    pub learning_rate: f64,
}

impl Default for CompanyExample {
    fn default() -> Self {
        Self {
            seed: 7,
            signals: [1.0, 0.5],
            result: 1.0,
            learning_rate: 2.0,
        }
    }
}

impl CompanyExample {
    /// The network's configuration: `[2, 3, 1]`, sigmoid everywhere, quadratic cost.
    pub fn config(&self) -> NetworkConfig {
        NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
            .with_hidden_activation(Activation::Sigmoid)
            .with_output_activation(Activation::Sigmoid)
            .with_seed(self.seed)
    }

    /// The network at its seeded random start.
    pub fn network(&self) -> Network<f64> {
        self.config()
            .init()
            .expect("the company configuration is valid")
    }

    /// Salespeople, managers and the CEO.
    pub fn roles(&self) -> CompanyRoles {
        CompanyRoles::company()
    }

    /// One step on the sale, explained.
    ///
    /// # Errors
    /// [`Error::Training`](backprop::Error::Training) when the learning rate is not positive and
    /// finite.
    pub fn explain(&self) -> Result<Explanation> {
        explain_step(
            &self.network(),
            &self.signals,
            &[self.result],
            self.learning_rate,
        )
    }

    /// Steps repeated until the CEO's prediction matches the result (see [`explain_steps`]).
    ///
    /// # Errors
    /// As [`explain_steps`].
    pub fn explain_steps(&self, options: &StepsOptions) -> Result<StepsExplanation> {
        explain_steps(
            &self.network(),
            &self.signals,
            &[self.result],
            self.learning_rate,
            options,
        )
    }
}
