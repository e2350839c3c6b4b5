# mutant: the parameter moves with the OLD velocity, the velocity is updated afterwards
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    g = grad + weight_decay * param
    new_param = param - lr * (velocity + g)
    new_velocity = momentum * velocity + g
    return new_param, new_velocity
