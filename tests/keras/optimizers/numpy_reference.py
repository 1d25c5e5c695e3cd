"""NumPy (float64) implementations of Keras 3's optimizer formulas, written from the Keras
documentation and source, to check ndflow's optimizers independently of the fixtures."""

import numpy as np


def _zeros(weights):
    return [np.zeros_like(w) for w in weights]


def sgd(weights, grads, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = _zeros(weights)
    for step in grads:
        for i, g in enumerate(step):
            if momentum == 0:
                weights[i] = weights[i] - learning_rate * g
                continue
            velocity[i] = momentum * velocity[i] - learning_rate * g
            if nesterov:
                weights[i] = weights[i] + momentum * velocity[i] - learning_rate * g
            else:
                weights[i] = weights[i] + velocity[i]
    return weights


def adam(weights, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
         amsgrad=False, weight_decay=None):
    m, v, v_hat = _zeros(weights), _zeros(weights), _zeros(weights)
    for t, step in enumerate(grads, start=1):
        alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, g in enumerate(step):
            if weight_decay is not None:
                weights[i] = weights[i] - weights[i] * weight_decay * learning_rate
            m[i] = m[i] + (g - m[i]) * (1 - beta_1)
            v[i] = v[i] + (g * g - v[i]) * (1 - beta_2)
            denominator = v[i]
            if amsgrad:
                v_hat[i] = np.maximum(v_hat[i], v[i])
                denominator = v_hat[i]
            weights[i] = weights[i] - m[i] * alpha / (np.sqrt(denominator) + epsilon)
    return weights


def adamax(weights, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, u = _zeros(weights), _zeros(weights)
    for t, step in enumerate(grads, start=1):
        for i, g in enumerate(step):
            m[i] = m[i] + (g - m[i]) * (1 - beta_1)
            u[i] = np.maximum(beta_2 * u[i], np.abs(g))
            weights[i] = weights[i] - learning_rate * m[i] / ((1 - beta_1**t) * (u[i] + epsilon))
    return weights


def nadam(weights, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, v = _zeros(weights), _zeros(weights)
    u_product = 1.0
    for t, step in enumerate(grads, start=1):
        u_t = beta_1 * (1 - 0.5 * 0.96**t)
        u_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * u_t
        for i, g in enumerate(step):
            m[i] = m[i] + (g - m[i]) * (1 - beta_1)
            v[i] = v[i] + (g * g - v[i]) * (1 - beta_2)
            m_hat = u_next * m[i] / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
            v_hat = v[i] / (1 - beta_2**t)
            weights[i] = weights[i] - m_hat * learning_rate / (np.sqrt(v_hat) + epsilon)
    return weights


def rmsprop(weights, grads, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
            centered=False):
    velocity, moment, mean = _zeros(weights), _zeros(weights), _zeros(weights)
    for step in grads:
        for i, g in enumerate(step):
            velocity[i] = rho * velocity[i] + (1 - rho) * g * g
            denominator = velocity[i] + epsilon
            if centered:
                mean[i] = rho * mean[i] + (1 - rho) * g
                denominator = denominator - mean[i] ** 2
            increment = learning_rate * g / np.sqrt(denominator)
            if momentum > 0:
                moment[i] = momentum * moment[i] + increment
                increment = moment[i]
            weights[i] = weights[i] - increment
    return weights


def adagrad(weights, grads, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    accumulator = [np.full_like(w, initial_accumulator_value) for w in weights]
    for step in grads:
        for i, g in enumerate(step):
            accumulator[i] = accumulator[i] + g * g
            weights[i] = weights[i] - learning_rate * g / np.sqrt(accumulator[i] + epsilon)
    return weights


def adadelta(weights, grads, learning_rate=0.001, rho=0.95, epsilon=1e-7):
    grad_average, delta_average = _zeros(weights), _zeros(weights)
    for step in grads:
        for i, g in enumerate(step):
            grad_average[i] = rho * grad_average[i] + (1 - rho) * g * g
            delta = -np.sqrt(delta_average[i] + epsilon) / np.sqrt(grad_average[i] + epsilon) * g
            delta_average[i] = rho * delta_average[i] + (1 - rho) * delta * delta
            weights[i] = weights[i] + learning_rate * delta
    return weights


def adafactor(weights, grads, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
              epsilon_2=1e-3, clip_threshold=1.0):
    def rms(x):
        return np.sqrt(np.mean(x * x))

    r = [np.zeros(w.shape[:-1]) if w.ndim >= 2 else None for w in weights]
    c = [np.zeros(w.shape[:-2] + w.shape[-1:]) if w.ndim >= 2 else None for w in weights]
    v = _zeros(weights)
    for t, step in enumerate(grads, start=1):
        rate = min(learning_rate, 1 / np.sqrt(t))
        beta_2_t = 1 - t**beta_2_decay
        for i, g in enumerate(step):
            alpha = max(epsilon_2, rms(weights[i])) * rate
            square = g * g + epsilon_1
            if weights[i].ndim >= 2:
                r[i] = beta_2_t * r[i] + (1 - beta_2_t) * square.mean(-1)
                c[i] = beta_2_t * c[i] + (1 - beta_2_t) * square.mean(-2)
                v[i] = (r[i] / r[i].mean(-1, keepdims=True))[..., None] * c[i][..., None, :]
            else:
                v[i] = beta_2_t * v[i] + (1 - beta_2_t) * square
            update = g / np.sqrt(v[i])
            update = update / max(1.0, rms(update) / clip_threshold)
            weights[i] = weights[i] - alpha * update
    return weights


def ftrl(weights, grads, learning_rate=0.001, learning_rate_power=-0.5,
         initial_accumulator_value=0.1, l1_regularization_strength=0.0,
         l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0, beta=0.0):
    accumulator = [np.full_like(w, initial_accumulator_value) for w in weights]
    linear = _zeros(weights)
    power = -learning_rate_power
    l1 = l1_regularization_strength
    l2 = l2_regularization_strength + beta / (2 * learning_rate)
    for step in grads:
        for i, g in enumerate(step):
            shrunk = g + 2 * l2_shrinkage_regularization_strength * weights[i]
            new_accumulator = accumulator[i] + g * g
            sigma = (new_accumulator**power - accumulator[i] ** power) / learning_rate
            linear[i] = linear[i] + shrunk - sigma * weights[i]
            quadratic = new_accumulator**power / learning_rate + 2 * l2
            weights[i] = (np.clip(linear[i], -l1, l1) - linear[i]) / quadratic
            accumulator[i] = new_accumulator
    return weights


def lion(weights, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.99):
    m = _zeros(weights)
    for step in grads:
        for i, g in enumerate(step):
            weights[i] = weights[i] - learning_rate * np.sign(beta_1 * m[i] + (1 - beta_1) * g)
            m[i] = beta_2 * m[i] + (1 - beta_2) * g
    return weights


REFERENCES = {"SGD": sgd, "Adam": adam, "AdamW": adam, "Adamax": adamax, "Nadam": nadam,
              "RMSprop": rmsprop, "Adagrad": adagrad, "Adadelta": adadelta,
              "Adafactor": adafactor, "Ftrl": ftrl, "Lion": lion}
