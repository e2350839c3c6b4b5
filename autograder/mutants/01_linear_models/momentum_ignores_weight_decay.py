# mutant: weight decay is ignored
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    new_velocity = momentum * velocity + grad
    return param - lr * new_velocity, new_velocity
