// Step-up after a failed password for a privileged account.
// The password step is offered again after each failure.  When an attempt in this login failed
// for an account holding one of the privileged roles, the login must also pass the second factor,
// whoever finally signs in: someone may be guessing that account's password.
var privilegedRoles = ['admin'];
var secondFactorStep = 2;
var failedForPrivilegedAccount = false;

var onLoginRequest = function (context) {
    passwordStep(context);
};

var passwordStep = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            if (failedForPrivilegedAccount) {
                Log.info('A privileged account failed a password in this login: second factor for ' + user.username);
                executeStep(secondFactorStep);
            }
        },
        onFail: function (context) {
            var failedUser = context.lastLoginFailedUser;
            if (context.retrying && failedUser && hasAnyOfTheRoles(failedUser, privilegedRoles)) {
                failedForPrivilegedAccount = true;
            }
            context.response.headers['X-Failed-For'] = failedUser ? failedUser.username : 'unknown';
            passwordStep(context);
        }
    });
};
