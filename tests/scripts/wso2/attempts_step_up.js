// Step up on failed sign-ins: after three wrong passwords before a successful one, a code by text message is
// asked too; passing it sets the count back to zero.
var invalidAttemptsToStepUp = 3;
var failedBeforeSuccessClaim = 'http://wso2.org/claims/identity/failedLoginAttemptsBeforeSuccess';

var onLoginRequest = function (context) {
    doLogin(context);
};

var doLogin = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            if (exceedsInvalidAttempts(user)) {
                executeStep(2, {
                    onSuccess: function (context) {
                        var user = context.steps[1].subject;
                        user.localClaims[failedBeforeSuccessClaim] = '0';
                    }
                });
            }
        },
        onFail: function (context) {
            // try again
            doLogin(context);
        }
    });
};

var exceedsInvalidAttempts = function (user) {
    return user.localClaims[failedBeforeSuccessClaim] >= invalidAttemptsToStepUp;
};
