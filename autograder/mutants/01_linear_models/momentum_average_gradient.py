# mutant: the lecture's "weighted average": v = mu * v + (1 - mu) * g (PyTorch's dampening=mu, not the default)
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    g = grad + weight_decay * param
    new_velocity = momentum * velocity + (1 - momentum) * g
    return param - lr * new_velocity, new_velocity
