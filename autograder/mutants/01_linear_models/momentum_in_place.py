# mutant: updates param and velocity in place (modifies the caller's tensors)
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    grad += weight_decay * param
    velocity.mul_(momentum).add_(grad)
    param.sub_(lr * velocity)
    return param, velocity
